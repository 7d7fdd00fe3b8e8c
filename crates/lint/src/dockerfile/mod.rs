//! Dockerfiles: parse, model the stages, judge.

pub mod model;
pub mod parse;
pub mod rules;

use crate::Hit;

/// All findings for one Dockerfile's text.
pub fn lint(text: &str) -> Result<Vec<Hit>, parse::ParseError> {
    let file = parse::parse(text)?;
    let m = model::Model::new(&file);
    if m.stages.is_empty() {
        return Err(parse::ParseError {
            pos: crate::Position::new(1, 1),
            message: "no FROM instruction: not a Dockerfile with a stage".into(),
        });
    }
    Ok(rules::check(&m))
}
