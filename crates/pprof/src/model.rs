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
    pub samples: Samples,
    pub locations: Vec<Location>,
    /// The lines of all locations, each location's contiguous (see `Profile::lines`).
    pub lines: Vec<Line>,
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

/// All samples of a profile in a few flat arrays (a profile holds ~100,000 of them, and
/// one allocation per sample field would cost more than the data): per sample, a span of
/// `locations` (indices into `Profile::locations`, leaf first), `stride` values (one per
/// sample type; negative in delta profiles) and its labels.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    spans: Vec<[u32; 2]>,
    locations: Vec<u32>,
    values: Vec<i64>,
    stride: usize,
    labels: Vec<Label>,
    /// End of each sample's labels in `labels`; empty when no sample has any.
    label_ends: Vec<u32>,
}

/// One sample, borrowed from `Samples`.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// Indices into `Profile::locations`, leaf first.
    pub locations: &'a [u32],
    /// One value per sample type; may be negative in delta profiles.
    pub values: &'a [i64],
    pub labels: &'a [Label],
}

impl Samples {
    /// Builds the arrays from per-sample parts; `values` holds `stride` values per sample.
    /// Offsets are checked so a bad caller gets a panic here, never a wrong report later.
    pub(crate) fn from_parts(
        spans: Vec<[u32; 2]>,
        locations: Vec<u32>,
        values: Vec<i64>,
        stride: usize,
        labels: Vec<Label>,
        label_ends: Vec<u32>,
    ) -> Samples {
        assert_eq!(values.len(), spans.len() * stride);
        assert!(
            spans
                .iter()
                .all(|&[a, b]| a <= b && b as usize <= locations.len())
        );
        assert!(label_ends.is_empty() || label_ends.len() == spans.len());
        assert!(
            label_ends
                .last()
                .is_none_or(|&e| e as usize == labels.len())
        );
        Samples {
            spans,
            locations,
            values,
            stride,
            labels,
            label_ends,
        }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Sample `i`; panics when out of range, like slice indexing.
    pub fn get(&self, i: usize) -> Sample<'_> {
        let [a, b] = self.spans[i];
        let labels = if self.label_ends.is_empty() {
            &[][..]
        } else {
            let start = if i == 0 { 0 } else { self.label_ends[i - 1] };
            &self.labels[start as usize..self.label_ends[i] as usize]
        };
        Sample {
            locations: &self.locations[a as usize..b as usize],
            values: &self.values[i * self.stride..(i + 1) * self.stride],
            labels,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Sample<'_>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Drops the first `n` locations (leaf side) of sample `i`, as pruning does.
    pub fn drop_leaf_locations(&mut self, i: usize, n: usize) {
        let span = &mut self.spans[i];
        span[0] = (span[0] as usize + n).min(span[1] as usize) as u32;
    }
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
    pub address: u64,
    /// Index into `Profile::mappings`.
    pub mapping: Option<u32>,
    /// This location's span of `Profile::lines` (see `Profile::lines`).
    pub(crate) line_start: u32,
    pub(crate) line_end: u32,
    pub is_folded: bool,
}

impl Location {
    /// Drops the `n` innermost lines, as pruning does with frames inlined into a dropped one.
    pub fn drop_inner_lines(&mut self, n: usize) {
        self.line_start = (self.line_start as usize + n).min(self.line_end as usize) as u32;
    }
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

/// Why `Profile::sample_index` names no sample type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleIndexError {
    #[error("profile has no sample types")]
    NoSampleTypes,
    /// A number that is not an index of the sample types (`index` as given).
    #[error("sample index {index} is outside the range [0..{max}]")]
    OutOfRange { index: String, max: usize },
    /// A name that is no sample type's; `types` are the profile's, in order.
    #[error("sample index {name:?} must be one of: {}", .types.join(", "))]
    Unknown { name: String, types: Vec<String> },
}

impl Profile {
    /// The lines of a location, innermost first: several lines mean inlining, the last is
    /// the real (outermost) frame.
    pub fn lines(&self, l: &Location) -> &[Line] {
        &self.lines[l.line_start as usize..l.line_end as usize]
    }

    /// The sample index pprof shows for `name`, or its default (`SampleIndexByName`):
    /// `default_sample_type` when it names a type, else the last; a name may also be a number
    /// or drop a legacy `inuse_` prefix.
    pub fn sample_index(&self, name: Option<&str>) -> Result<usize, SampleIndexError> {
        if self.sample_types.is_empty() {
            return Err(SampleIndexError::NoSampleTypes);
        }
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
                return Err(SampleIndexError::OutOfRange {
                    index: name.to_string(),
                    max: self.sample_types.len() - 1,
                });
            }
            return Ok(i as usize);
        }
        let no_inuse = name.strip_prefix("inuse_").unwrap_or(name);
        self.sample_types
            .iter()
            .position(|t| t.ty == name || t.ty == no_inuse)
            .ok_or_else(|| SampleIndexError::Unknown {
                name: name.to_string(),
                types: self.sample_types.iter().map(|t| t.ty.clone()).collect(),
            })
    }

    /// Basename of the main binary (mapping 0), as pprof's `File:` line shows it.
    pub fn main_file(&self) -> Option<&str> {
        let f = self.mappings.first()?.file.as_str();
        (!f.is_empty()).then(|| f.rsplit('/').next().unwrap_or(f))
    }
}
