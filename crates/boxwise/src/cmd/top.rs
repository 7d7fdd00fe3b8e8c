//! `boxwise top`: two snapshots an interval apart give the rates; `--once` and `--json`
//! print them, otherwise the screen refreshes until `q`.

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use boxwise_box::host::Host;
use boxwise_fleet::{JudgeCache, Options, snapshot_with};

use crate::cli::TopArgs;
use crate::report::top::{self as render, View};

pub fn run(args: TopArgs) -> anyhow::Result<ExitCode> {
    let host = Host::live();
    let opts = Options {
        skip_pid: Some(std::process::id()),
        ..Options::default()
    };
    let view = View {
        sort: render::Sort::parse(&args.sort).unwrap_or(render::Sort::Throttled),
        filter: args.filter.clone().unwrap_or_default(),
        wide: args.wide,
    };
    if args.once || args.json {
        let mut cache = JudgeCache::new(1);
        let before = snapshot_with(&host, &opts, Some(&mut cache));
        thread::sleep(args.interval);
        let now = snapshot_with(&host, &opts, Some(&mut cache));
        let screen = render::Screen::new(&before, &now);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&screen.json())?);
        } else {
            let width = if args.wide { usize::MAX } else { 80 };
            print!("{}", render::text(&screen, &view, width, usize::MAX));
        }
        return Ok(ExitCode::SUCCESS);
    }
    use std::io::IsTerminal as _;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "top draws a live screen and needs a terminal; for a script or a pipe use \
             `boxwise top --once` or `--json`"
        );
    }
    interactive(&host, &opts, args.interval, view)?;
    Ok(ExitCode::SUCCESS)
}

/// The live screen: redraw every `interval`; keys c/t/m/n sort, `/` edits the filter
/// (Enter keeps it, Esc clears it), q or Ctrl-C quits. The terminal is restored on the way
/// out, also on error.
fn interactive(
    host: &Host,
    opts: &Options,
    interval: Duration,
    mut view: View,
) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init()?;
    // Go processes are judged afresh every 10 refreshes (and when new); the cgroup
    // counters every refresh.
    let mut cache = JudgeCache::new(10);
    let result = (|| -> anyhow::Result<()> {
        let mut before = snapshot_with(host, opts, Some(&mut cache));
        let mut screen = render::Screen::new(&before, &before);
        let mut next = Instant::now();
        let mut editing = false;
        loop {
            if Instant::now() >= next {
                let now = snapshot_with(host, opts, Some(&mut cache));
                screen = render::Screen::new(&before, &now);
                before = now;
                next = Instant::now() + interval;
            }
            terminal.draw(|frame| {
                let area = frame.area();
                let mut lines = render::lines(
                    &screen,
                    &view,
                    area.width as usize,
                    area.height.saturating_sub(1) as usize,
                );
                lines.push(if editing {
                    format!("filter: {}_  (Enter keeps, Esc clears)", view.filter)
                } else if !view.filter.is_empty() {
                    format!("filter \"{}\"  / change  Esc clear  q quit", view.filter)
                } else {
                    "q quit  c cpu  t throttled  m memory  n name  / filter".into()
                });
                let text: Vec<Line> = lines.into_iter().map(Line::from).collect();
                frame.render_widget(Paragraph::new(text), area);
            })?;
            let wait = next.saturating_duration_since(Instant::now());
            if !event::poll(wait)? {
                continue;
            }
            let Event::Key(key) = event::read()? else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
                return Ok(());
            }
            if editing {
                match key.code {
                    KeyCode::Enter => editing = false,
                    KeyCode::Esc => {
                        view.filter.clear();
                        editing = false;
                    }
                    KeyCode::Backspace => {
                        view.filter.pop();
                    }
                    KeyCode::Char(ch) if view.filter.len() < 64 => view.filter.push(ch),
                    _ => {}
                }
                continue;
            }
            match key.code {
                KeyCode::Esc if !view.filter.is_empty() => view.filter.clear(),
                KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                KeyCode::Char('c') => view.sort = render::Sort::Cpu,
                KeyCode::Char('t') => view.sort = render::Sort::Throttled,
                KeyCode::Char('m') => view.sort = render::Sort::Memory,
                KeyCode::Char('n') => view.sort = render::Sort::Name,
                KeyCode::Char('/') | KeyCode::Char('f') => editing = true,
                _ => {}
            }
        }
    })();
    ratatui::restore();
    result
}
