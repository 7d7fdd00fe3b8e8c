//! The decoded profile with every string and id resolved: what the reports work on.
//!
//! References are indices into this profile's vectors (not wire ids), so the reports never
//! look anything up by id and cannot meet a dangling reference.

/// What one sample value measures, e.g. `cpu`/`nanoseconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueType {
    pub ty: String,
    pub unit: String,
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub sample_types: Vec<ValueType>,
    /// Empty when unset: pprof then shows the last sample type.
    pub default_sample_type: String,
    pub samples: Vec<Sample>,
    pub locations: Vec<Location>,
    pub functions: Vec<Function>,
    pub mappings: Vec<Mapping>,
    pub drop_frames: String,
    pub keep_frames: String,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub period_type: Option<ValueType>,
    pub period: i64,
    pub comments: Vec<String>,
    pub doc_url: String,
}

#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Indices into `Profile::locations`, leaf first.
    pub locations: Vec<u32>,
    /// One value per sample type; may be negative in delta profiles.
    pub values: Vec<i64>,
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Label {
    pub key: String,
    pub str: String,
    pub num: i64,
    pub num_unit: String,
}

#[derive(Debug, Clone, Default)]
pub struct Location {
    pub id: u64,
    /// Index into `Profile::mappings`.
    pub mapping: Option<u32>,
    pub address: u64,
    /// Innermost first: several lines mean inlining, the last is the real (outermost) frame.
    pub lines: Vec<Line>,
    pub is_folded: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Line {
    /// Index into `Profile::functions`; `None` when the wire id was 0.
    pub function: Option<u32>,
    pub line: i64,
    pub column: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Function {
    pub id: u64,
    pub name: String,
    pub system_name: String,
    pub filename: String,
    pub start_line: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub id: u64,
    pub memory_start: u64,
    pub memory_limit: u64,
    pub file_offset: u64,
    pub file: String,
    pub build_id: String,
    pub has_functions: bool,
    pub has_filenames: bool,
    pub has_line_numbers: bool,
    pub has_inline_frames: bool,
}

impl Profile {
    /// The sample index pprof shows for `name`, or its default (`SampleIndexByName`):
    /// `default_sample_type` when it names a type, else the last; a name may also be a number
    /// or drop a legacy `inuse_` prefix.
    pub fn sample_index(&self, name: Option<&str>) -> Result<usize, String> {
        if self.sample_types.is_empty() {
            return Err("profile has no sample types".into());
        }
        let names = || {
            self.sample_types
                .iter()
                .map(|t| t.ty.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            if !self.default_sample_type.is_empty()
                && let Some(i) = self
                    .sample_types
                    .iter()
                    .position(|t| t.ty == self.default_sample_type)
            {
                return Ok(i);
            }
            return Ok(self.sample_types.len() - 1);
        };
        if let Ok(i) = name.parse::<i64>() {
            if i < 0 || i as usize >= self.sample_types.len() {
                return Err(format!(
                    "sample index {name} is outside the range [0..{}]",
                    self.sample_types.len() - 1
                ));
            }
            return Ok(i as usize);
        }
        let no_inuse = name.strip_prefix("inuse_").unwrap_or(name);
        self.sample_types
            .iter()
            .position(|t| t.ty == name || t.ty == no_inuse)
            .ok_or_else(|| format!("sample index {name:?} must be one of: {}", names()))
    }

    /// Basename of the main binary (mapping 0), as pprof's `File:` line shows it.
    pub fn main_file(&self) -> Option<&str> {
        let f = self.mappings.first()?.file.as_str();
        (!f.is_empty()).then(|| f.rsplit('/').next().unwrap_or(f))
    }
}
