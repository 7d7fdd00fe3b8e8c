//! SVG rendering for boxwise reports: a small line-chart module with no dependencies.
//!
//! Charts are plain data ([`Chart`], [`Series`], [`HLine`]) turned into a self-contained
//! SVG string, so any command (gctrace, schedtrace, sweep) can draw one and the output is
//! readable in a browser without the terminal: text is SVG `<text>`, not paths, and no
//! font or script is needed.

#![forbid(unsafe_code)]

pub mod chart;
mod svg;
pub mod ticks;

pub use chart::{Chart, HLine, Series, Style, stack};
pub use svg::escape;
