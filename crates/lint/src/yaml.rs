//! YAML streams into a small owned tree that keeps each node's line and column. saphyr does
//! the parsing (YAML 1.2, multi-document, anchors and aliases with an expansion budget);
//! merge keys (`<<: *defaults`, common in Compose files) are applied here.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use crate::Position;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Position,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Any scalar as its text (`1.5`, `true`, `500m`), since manifests mix numbers and strings.
    Scalar(String),
    Seq(Vec<Node>),
    /// Keys in document order; the key's own position is kept.
    Map(Vec<(String, Position, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Position,
    pub message: String,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    /// Follow a path of keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }

    pub fn str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(v) => v,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[(String, Position, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    /// Where a key is written in this mapping, else this node's own position.
    pub fn key_pos(&self, key: &str) -> Position {
        self.entries()
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, p, _)| *p)
            .unwrap_or(self.pos)
    }
}

fn pos(m: &saphyr::Marker) -> Position {
    Position::new(m.line().max(1), m.col() + 1)
}

fn scalar_text(s: &Scalar) -> String {
    match s {
        Scalar::Null => String::new(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::FloatingPoint(f) => f.to_string(),
        Scalar::String(s) => s.to_string(),
    }
}

fn convert(y: &MarkedYaml, depth: usize) -> Result<Node, YamlError> {
    let p = pos(&y.span.start);
    if depth > 200 {
        return Err(YamlError {
            pos: p,
            message: "nested more than 200 levels deep".into(),
        });
    }
    let value = match &y.data {
        YamlData::Value(Scalar::Null) => Value::Null,
        YamlData::Value(s) => Value::Scalar(scalar_text(s)),
        YamlData::Representation(s, _, _) => Value::Scalar(s.to_string()),
        YamlData::Tagged(_, inner) => return convert(inner, depth + 1),
        YamlData::Sequence(v) => Value::Seq(
            v.iter()
                .map(|n| convert(n, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(m) => {
            let mut own: Vec<(String, Position, Node)> = Vec::new();
            let mut merged: Vec<(String, Position, Node)> = Vec::new();
            for (k, v) in m.iter() {
                let key = match &k.data {
                    YamlData::Value(s) => scalar_text(s),
                    YamlData::Representation(s, _, _) => s.to_string(),
                    _ => String::new(),
                };
                let node = convert(v, depth + 1)?;
                if key == "<<" {
                    // A merge key: one mapping or a list of them, earlier ones winning.
                    let sources: Vec<&Node> = match &node.value {
                        Value::Seq(items) => items.iter().collect(),
                        _ => vec![&node],
                    };
                    for s in sources {
                        for e in s.entries() {
                            if !merged.iter().any(|(k2, _, _)| *k2 == e.0) {
                                merged.push(e.clone());
                            }
                        }
                    }
                } else {
                    own.push((key, pos(&k.span.start), node));
                }
            }
            for e in merged {
                if !own.iter().any(|(k, _, _)| *k == e.0) {
                    own.push(e);
                }
            }
            Value::Map(own)
        }
        YamlData::Alias(_) | YamlData::BadValue => Value::Null,
    };
    Ok(Node { pos: p, value })
}

/// Every document of a YAML stream.
pub fn load(text: &str) -> Result<Vec<Node>, YamlError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| YamlError {
        pos: pos(e.marker()),
        message: e.info().to_string(),
    })?;
    docs.iter()
        .map(|d| convert(d, 0))
        .filter(|r| {
            !matches!(
                r,
                Ok(Node {
                    value: Value::Null,
                    ..
                })
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn positions_anchors_merges_documents() {
        let text =
            "a: 1\n---\nbase: &b\n  x: one\n  y: two\nuse:\n  <<: *b\n  y: mine\nlist: [*b]\n";
        let docs = load(text).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].get("a").unwrap().str(), Some("1"));
        let d = &docs[1];
        assert_eq!(d.key_pos("use"), Position::new(6, 1));
        let u = d.get("use").unwrap();
        assert_eq!(u.get("x").unwrap().str(), Some("one"));
        assert_eq!(u.get("y").unwrap().str(), Some("mine"));
        assert_eq!(u.get("y").unwrap().pos, Position::new(8, 6));
        assert_eq!(
            d.get("list").unwrap().seq()[0].get("y").unwrap().str(),
            Some("two")
        );
    }

    #[test]
    fn error_position() {
        let e = load("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
        assert!(!e.message.is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = load(&s);
        }

        /// A flat mapping keeps every key, its value and its line.
        #[test]
        fn keys_keep_lines(vals in proptest::collection::vec("[a-z][a-z0-9]{0,8}", 1..30)) {
            let text: String = vals.iter().enumerate().map(|(i, v)| format!("k{i}: {v}\n")).collect();
            let docs = load(&text).unwrap();
            for (i, v) in vals.iter().enumerate() {
                let k = format!("k{i}");
                prop_assert_eq!(docs[0].get(&k).unwrap().str(), Some(v.as_str()));
                prop_assert_eq!(docs[0].key_pos(&k), Position::new(i + 1, 1));
            }
        }
    }
}
