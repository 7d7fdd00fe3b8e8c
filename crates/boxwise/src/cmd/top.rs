//! `boxwise top`: two snapshots an interval apart give the rates; `--once` and `--json`
//! print them, otherwise the screen refreshes until `q`.

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use boxwise_box::host::Host;
use boxwise_fleet::{Collector, Names, Options, Pace, Snapshot};

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
        show_errors: false,
    };
    // Container names from the Docker engine, when its socket is there; asked in the
    // background, never waited for by a refresh.
    let names = Names::start(NAMES_EVERY);
    if args.once || args.json {
        // Everything is read, both times; the second snapshot reuses the judgements.
        let mut collector = Collector::new(opts, Pace::FULL, Some(1), names);
        let before = collector.snapshot(&host);
        thread::sleep(args.interval);
        if let Some(n) = collector.names() {
            n.wait_first(Duration::from_secs(3));
        }
        let now = collector.snapshot(&host);
        let screen = render::Screen::new(&before, &now);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&screen.json(&view))?);
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
    // The counters are read every refresh, the rest as `Pace::LIVE` says; Go processes
    // are found every 5 refreshes and judged afresh every other time (10 s) or when new.
    let collector = Collector::new(opts, Pace::LIVE, Some(1), names);
    interactive(&host, collector, args.interval, view)?;
    Ok(ExitCode::SUCCESS)
}

/// How often the engine is asked for container names (and when a new container appears).
const NAMES_EVERY: Duration = Duration::from_secs(60);

/// Read the costly files of the rows the screen shows, then make the screen again.
fn fill_shown(
    host: &Host,
    collector: &mut Collector,
    before: &Snapshot,
    now: &mut Snapshot,
    view: &View,
    height: usize,
) -> render::Screen {
    let screen = render::Screen::new(before, now);
    let ids = render::shown_ids(&screen, view, height);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    collector.detail(host, now, &ids);
    render::Screen::new(before, now)
}

/// The live screen: redraw every `interval`; keys c/t/m/n sort, `/` edits the filter
/// (Enter keeps it, Esc clears it), q or Ctrl-C quits. The terminal is restored on the way
/// out, also on error.
fn interactive(
    host: &Host,
    mut collector: Collector,
    interval: Duration,
    mut view: View,
) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| -> anyhow::Result<()> {
        let height = |t: &ratatui::DefaultTerminal| {
            t.size().map_or(24, |r| r.height as usize).saturating_sub(1)
        };
        // The newest snapshot and the one before: the rates are between them.
        let mut cur = collector.snapshot(host);
        let mut prev = cur.clone();
        let mut screen = render::Screen::new(&prev, &cur);
        let mut next = Instant::now();
        let mut editing = false;
        let mut view_changed = false;
        loop {
            if Instant::now() >= next {
                let mut now = collector.snapshot(host);
                let h = height(&terminal);
                screen = fill_shown(host, &mut collector, &cur, &mut now, &view, h);
                prev = std::mem::replace(&mut cur, now);
                next = Instant::now() + interval;
            } else if view_changed {
                // Other rows may be on screen now: read their costly files at once.
                let h = height(&terminal);
                screen = fill_shown(host, &mut collector, &prev, &mut cur, &view, h);
            }
            view_changed = false;
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
                } else if !screen.errors.is_empty() {
                    "q quit  c cpu  t thr  m mem  n name  / filter  e unreadable".into()
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
                view_changed = true;
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
                KeyCode::Char('e') => view.show_errors = !view.show_errors,
                _ => {}
            }
            view_changed = true;
        }
    })();
    ratatui::restore();
    result
}
