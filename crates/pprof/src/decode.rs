//! Bytes -> `Profile`: gunzip when gzip magic is present, decode the protobuf field by field
//! as it streams in, then resolve and check every string index and id so the reports can
//! trust the model.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use prost::Message;

use crate::model::{Function, Label, Line, Location, Mapping, Profile, Samples, ValueType};
use crate::proto;

/// Decompressed profiles larger than this are refused (a gzip bomb guard).
pub const MAX_DECODED: u64 = 2 << 30;

/// Most samples, locations, functions or strings one profile may hold. An entry can take
/// two bytes on the wire but tens in memory, so the byte cap alone would let a small gzip
/// of empty entries grow to gigabytes; a real profile merges identical stacks and stays far
/// below this.
pub const MAX_ITEMS: usize = 1 << 24;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("not a pprof protobuf: a field runs past the end of the data")]
    Truncated,
    #[error("not a pprof protobuf: {0}")]
    Wire(&'static str),
    #[error("reading: {0}")]
    Read(std::io::Error),
    #[error("gunzip: {0}")]
    Gzip(std::io::Error),
    #[error("decompressed profile is larger than {MAX_DECODED} bytes")]
    TooLarge,
    #[error(
        "more than {MAX_ITEMS} {0}: no real profile has that many, and holding them would take \
         gigabytes"
    )]
    TooMany(&'static str),
    #[error("not a pprof protobuf: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("string_table[0] must be \"\", found {0:?}")]
    FirstString(String),
    #[error("{what}: string index {index} is out of range (string table has {len} entries)")]
    StringIndex {
        what: &'static str,
        index: i64,
        len: usize,
    },
    #[error("{what} has id 0 (ids must be nonzero)")]
    ZeroId { what: &'static str },
    #[error("duplicate {what} id {id}")]
    DuplicateId { what: &'static str, id: u64 },
    #[error("{from} refers to {what} id {id}, which does not exist")]
    MissingId {
        from: &'static str,
        what: &'static str,
        id: u64,
    },
    #[error("sample {index} has {values} values but the profile has {types} sample types")]
    ValueCount {
        index: usize,
        values: usize,
        types: usize,
    },
}

/// Decodes a profile from raw or gzip-compressed bytes.
pub fn decode(data: &[u8]) -> Result<Profile, DecodeError> {
    decode_reader(data)
}

/// Decodes from a reader (a file), gunzipping as it reads. Neither the compressed nor the
/// decompressed bytes are ever held whole: the profile's top-level fields are read one at a
/// time, and samples (most of a profile) go straight into the model's flat arrays.
pub fn decode_reader(mut r: impl Read) -> Result<Profile, DecodeError> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match r.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DecodeError::Read(e)),
        }
    }
    let head = &magic[..got];
    if head.is_empty() {
        return Err(DecodeError::Empty);
    }
    if head == [0x1f, 0x8b] {
        let gz = flate2::read::MultiGzDecoder::new(head.chain(r));
        decode_stream(Input::new(BufReader::with_capacity(64 << 10, gz), true))
    } else {
        let plain = BufReader::with_capacity(64 << 10, head.chain(r));
        decode_stream(Input::new(plain, false))
    }
}

/// The decompressed byte stream, read field by field with a size guard.
struct Input<R> {
    r: R,
    read: u64,
    gzip: bool,
}

impl<R: BufRead> Input<R> {
    fn new(r: R, gzip: bool) -> Self {
        Input { r, read: 0, gzip }
    }

    fn io(&self, e: std::io::Error) -> DecodeError {
        if self.gzip {
            DecodeError::Gzip(e)
        } else {
            DecodeError::Read(e)
        }
    }

    /// The next byte, `None` at the end of the data.
    fn byte(&mut self) -> Result<Option<u8>, DecodeError> {
        let b = loop {
            match self.r.fill_buf() {
                Ok(buf) => break buf.first().copied(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io(e)),
            }
        };
        if b.is_some() {
            self.r.consume(1);
            self.count(1)?;
        }
        Ok(b)
    }

    fn count(&mut self, n: u64) -> Result<(), DecodeError> {
        self.read += n;
        if self.read > MAX_DECODED {
            return Err(DecodeError::TooLarge);
        }
        Ok(())
    }

    /// A varint; `None` when the data ends cleanly before it (only allowed for a key).
    fn varint(&mut self, out: &mut Vec<u8>) -> Result<Option<u64>, DecodeError> {
        let mut v = 0u64;
        for i in 0..10 {
            let Some(b) = self.byte()? else {
                return if i == 0 {
                    Ok(None)
                } else {
                    Err(DecodeError::Truncated)
                };
            };
            out.push(b);
            if i == 9 && b > 1 {
                return Err(DecodeError::Wire("invalid varint"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(Some(v));
            }
        }
        Err(DecodeError::Wire("invalid varint"))
    }

    /// Appends exactly `n` bytes to `out`.
    fn bytes(&mut self, n: u64, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        // No reservation from the claimed length: the data may be far shorter. Reading one
        // byte past the size guard is enough to know it was crossed.
        let room = MAX_DECODED + 1 - self.read;
        let got = (&mut self.r)
            .take(n.min(room))
            .read_to_end(out)
            .map_err(|e| self.io(e))?;
        self.count(got as u64)?;
        if got as u64 != n {
            return Err(DecodeError::Truncated);
        }
        Ok(())
    }
}

/// Reads the top-level fields: samples, locations, functions and strings are taken apart as
/// they come; the few other fields are collected and decoded by prost at the end.
fn decode_stream<R: BufRead>(mut inp: Input<R>) -> Result<Profile, DecodeError> {
    let mut rest = Vec::new();
    let mut field = Vec::new();
    let mut head = Vec::with_capacity(20);
    let mut b = Builder::default();
    let mut fields = 0usize;
    loop {
        head.clear();
        let Some(key) = inp.varint(&mut head)? else {
            break;
        };
        fields += 1;
        let tag = key >> 3;
        if tag == 0 || tag > u64::from(u32::MAX >> 3) {
            return Err(DecodeError::Wire("invalid field number"));
        }
        match key & 7 {
            0 => {
                inp.varint(&mut head)?.ok_or(DecodeError::Truncated)?;
                rest.extend_from_slice(&head);
            }
            1 => {
                rest.extend_from_slice(&head);
                inp.bytes(8, &mut rest)?;
            }
            5 => {
                rest.extend_from_slice(&head);
                inp.bytes(4, &mut rest)?;
            }
            2 => {
                let len = inp.varint(&mut head)?.ok_or(DecodeError::Truncated)?;
                field.clear();
                inp.bytes(len, &mut field)?;
                match tag {
                    2 => b.sample(&field)?,
                    4 => b.location(proto::Location::decode(&field[..])?)?,
                    5 => b.function(proto::Function::decode(&field[..])?)?,
                    6 if b.strings.len() >= MAX_ITEMS => {
                        return Err(DecodeError::TooMany("strings"));
                    }
                    6 => b.strings.push(
                        std::str::from_utf8(&field)
                            .map_err(|_| DecodeError::Wire("a string is not UTF-8"))?
                            .to_owned(),
                    ),
                    _ => {
                        rest.extend_from_slice(&head);
                        rest.extend_from_slice(&field);
                    }
                }
                // A rare huge field must not pin its buffer for the rest of the decode.
                if field.capacity() > 1 << 20 {
                    field = Vec::new();
                }
            }
            _ => return Err(DecodeError::Wire("unsupported wire type")),
        }
    }
    drop(field);
    // A gzip stream holding nothing is as empty as an empty file.
    if fields == 0 {
        return Err(DecodeError::Empty);
    }
    let wire = proto::Profile::decode(&rest[..])?;
    drop(rest);
    b.finish(wire)
}

/// Wire ids of one kind (location, function, mapping) as dense refs, in order of first
/// sight, so references can be stored before what they refer to has been read (Go writes
/// samples before locations, locations before functions) and mapped to indices at the end.
#[derive(Default)]
struct Ids {
    /// Id -> ref + 1, for small ids (Go numbers from 1); larger ones go through `far`.
    near: Vec<u32>,
    far: HashMap<u64, u32>,
    /// Ref -> id.
    ids: Vec<u64>,
    /// Ref -> index of the message with that id, `u32::MAX` until it is read.
    index: Vec<u32>,
}

/// Ids below this are interned through a plain table.
const NEAR_IDS: u64 = 1 << 20;

impl Ids {
    /// The ref of a nonzero id.
    fn get(&mut self, id: u64) -> u32 {
        let next = self.ids.len() as u32;
        if id < NEAR_IDS {
            let i = id as usize;
            if i >= self.near.len() {
                let len = (i + 1).max(self.near.len() * 2).min(NEAR_IDS as usize);
                self.near.resize(len, 0);
            }
            if self.near[i] == 0 {
                self.ids.push(id);
                self.index.push(u32::MAX);
                self.near[i] = next + 1;
            }
            return self.near[i] - 1;
        }
        *self.far.entry(id).or_insert_with(|| {
            self.ids.push(id);
            self.index.push(u32::MAX);
            next
        })
    }

    /// Records that the message with `id` is the `at`-th of its kind.
    fn define(&mut self, what: &'static str, id: u64, at: usize) -> Result<(), DecodeError> {
        if id == 0 {
            return Err(DecodeError::ZeroId { what });
        }
        let r = self.get(id) as usize;
        if self.index[r] != u32::MAX {
            return Err(DecodeError::DuplicateId { what, id });
        }
        self.index[r] = at as u32;
        Ok(())
    }

    /// Ref -> index, or an error naming the first id referred to but never defined.
    fn finish(self, from: &'static str, what: &'static str) -> Result<Vec<u32>, DecodeError> {
        match self.index.iter().position(|&i| i == u32::MAX) {
            Some(r) => Err(DecodeError::MissingId {
                from,
                what,
                id: self.ids[r],
            }),
            None => Ok(self.index),
        }
    }
}

/// The model as it is read, with references still as refs (see `Ids`). Samples are decoded
/// by hand into flat arrays; locations go into the model as they come.
#[derive(Default)]
struct Builder {
    spans: Vec<[u32; 2]>,
    sample_locs: Vec<u32>,
    values: Vec<i64>,
    /// Number of values of sample 0, and the first sample with a different number.
    first_count: Option<usize>,
    odd_count: Option<(usize, usize)>,
    labels: Vec<proto::Label>,
    /// Set at the first sample with labels; from then on `label_ends` has one per sample.
    has_labels: bool,
    label_ends: Vec<u32>,
    locations: Vec<Location>,
    lines: Vec<Line>,
    functions: Vec<proto::Function>,
    strings: Vec<String>,
    location_ids: Ids,
    function_ids: Ids,
    mapping_ids: Ids,
}

fn too_large(n: usize) -> Result<u32, DecodeError> {
    u32::try_from(n).map_err(|_| DecodeError::TooLarge)
}

impl Builder {
    fn sample(&mut self, mut b: &[u8]) -> Result<(), DecodeError> {
        if self.spans.len() >= MAX_ITEMS {
            return Err(DecodeError::TooMany("samples"));
        }
        use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
        let start = self.sample_locs.len();
        let values_before = self.values.len();
        let labels_before = self.labels.len();
        let loc = |this: &mut Self, id: u64| {
            if id == 0 {
                return Err(DecodeError::ZeroId {
                    what: "sample location",
                });
            }
            let r = this.location_ids.get(id);
            this.sample_locs.push(r);
            Ok(())
        };
        while !b.is_empty() {
            let (tag, wt) = decode_key(&mut b)?;
            match (tag, wt) {
                (1..=3, WireType::LengthDelimited) => {
                    let len = decode_varint(&mut b)?;
                    if len > b.len() as u64 {
                        return Err(DecodeError::Truncated);
                    }
                    let (mut body, after) = b.split_at(len as usize);
                    b = after;
                    match tag {
                        1 => {
                            while !body.is_empty() {
                                loc(self, decode_varint(&mut body)?)?;
                            }
                        }
                        2 => {
                            while !body.is_empty() {
                                self.values.push(decode_varint(&mut body)? as i64);
                            }
                        }
                        _ => self.labels.push(proto::Label::decode(body)?),
                    }
                }
                (1, WireType::Varint) => loc(self, decode_varint(&mut b)?)?,
                (2, WireType::Varint) => self.values.push(decode_varint(&mut b)? as i64),
                (1..=3, _) => {
                    return Err(DecodeError::Wire("sample field has the wrong wire type"));
                }
                _ => skip_field(wt, tag, &mut b, DecodeContext::default())?,
            }
        }
        let index = self.spans.len();
        self.spans
            .push([start as u32, too_large(self.sample_locs.len())?]);
        let count = self.values.len() - values_before;
        match self.first_count {
            None => self.first_count = Some(count),
            Some(c) if c != count && self.odd_count.is_none() => {
                self.odd_count = Some((index, count))
            }
            Some(_) => {}
        }
        if self.labels.len() > labels_before && !self.has_labels {
            self.has_labels = true;
            self.label_ends.resize(index, 0);
        }
        if self.has_labels {
            self.label_ends.push(too_large(self.labels.len())?);
        }
        Ok(())
    }

    fn location(&mut self, l: proto::Location) -> Result<(), DecodeError> {
        if self.locations.len() >= MAX_ITEMS {
            return Err(DecodeError::TooMany("locations"));
        }
        self.location_ids
            .define("location", l.id, self.locations.len())?;
        let line_start = too_large(self.lines.len())?;
        for ln in &l.line {
            self.lines.push(Line {
                function: (ln.function_id != 0).then(|| self.function_ids.get(ln.function_id)),
                line: ln.line,
                column: ln.column,
            });
        }
        self.locations.push(Location {
            id: l.id,
            address: l.address,
            mapping: (l.mapping_id != 0).then(|| self.mapping_ids.get(l.mapping_id)),
            line_start,
            line_end: too_large(self.lines.len())?,
            is_folded: l.is_folded,
        });
        Ok(())
    }

    fn function(&mut self, f: proto::Function) -> Result<(), DecodeError> {
        if self.functions.len() >= MAX_ITEMS {
            return Err(DecodeError::TooMany("functions"));
        }
        self.function_ids
            .define("function", f.id, self.functions.len())?;
        self.functions.push(f);
        Ok(())
    }

    /// The first sample whose number of values is not `types`.
    fn check_counts(&self, types: usize) -> Result<(), DecodeError> {
        let bad = match (self.first_count, self.odd_count) {
            (Some(c), _) if c != types => Some((0, c)),
            (_, odd) => odd,
        };
        match bad {
            Some((index, values)) => Err(DecodeError::ValueCount {
                index,
                values,
                types,
            }),
            None => Ok(()),
        }
    }

    /// Resolves everything: string indices become strings, refs become vector indices.
    fn finish(mut self, p: proto::Profile) -> Result<Profile, DecodeError> {
        let mut strings = std::mem::take(&mut self.strings);
        if let Some(first) = strings.first().filter(|s| !s.is_empty()) {
            return Err(DecodeError::FirstString(first.clone()));
        }
        let s = |what: &'static str, index: i64| -> Result<String, DecodeError> {
            usize::try_from(index)
                .ok()
                .and_then(|i| strings.get(i))
                .cloned()
                .ok_or(DecodeError::StringIndex {
                    what,
                    index,
                    len: strings.len(),
                })
        };
        let vt = |v: &proto::ValueType, what| -> Result<ValueType, DecodeError> {
            Ok(ValueType {
                ty: s(what, v.r#type)?,
                unit: s(what, v.unit)?,
            })
        };

        let mut mappings = Vec::with_capacity(p.mapping.len());
        for m in &p.mapping {
            self.mapping_ids.define("mapping", m.id, mappings.len())?;
            mappings.push(Mapping {
                id: m.id,
                memory_start: m.memory_start,
                memory_limit: m.memory_limit,
                file_offset: m.file_offset,
                file: s("mapping filename", m.filename)?,
                build_id: s("mapping build_id", m.build_id)?,
                has_functions: m.has_functions,
                has_filenames: m.has_filenames,
                has_line_numbers: m.has_line_numbers,
                has_inline_frames: m.has_inline_frames,
            });
        }

        let sample_types = p
            .sample_type
            .iter()
            .map(|t| vt(t, "sample_type"))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_counts(sample_types.len())?;
        let mapping_ix = self.mapping_ids.finish("location", "mapping")?;
        let function_ix = self.function_ids.finish("location line", "function")?;
        let location_ix = self.location_ids.finish("sample", "location")?;
        for l in &mut self.locations {
            l.mapping = l.mapping.map(|r| mapping_ix[r as usize]);
        }
        for ln in &mut self.lines {
            ln.function = ln.function.map(|r| function_ix[r as usize]);
        }
        for r in &mut self.sample_locs {
            *r = location_ix[*r as usize];
        }

        let labels = self
            .labels
            .iter()
            .map(|l| {
                Ok(Label {
                    key: s("label key", l.key)?,
                    str: s("label str", l.str)?,
                    num: l.num,
                    num_unit: s("label num_unit", l.num_unit)?,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        self.sample_locs.shrink_to_fit();
        self.values.shrink_to_fit();
        self.spans.shrink_to_fit();
        self.locations.shrink_to_fit();
        self.lines.shrink_to_fit();
        let samples = Samples::from_parts(
            self.spans,
            self.sample_locs,
            self.values,
            sample_types.len(),
            labels,
            self.label_ends,
        );

        let mut out = Profile {
            default_sample_type: s("default_sample_type", p.default_sample_type)?,
            drop_frames: s("drop_frames", p.drop_frames)?,
            keep_frames: s("keep_frames", p.keep_frames)?,
            period_type: p
                .period_type
                .as_ref()
                .map(|t| vt(t, "period_type"))
                .transpose()?,
            comments: p
                .comment
                .iter()
                .map(|&c| s("comment", c))
                .collect::<Result<_, _>>()?,
            doc_url: s("doc_url", p.doc_url)?,
            sample_types,
            samples,
            locations: self.locations,
            lines: self.lines,
            functions: Vec::new(),
            mappings,
            time_nanos: p.time_nanos,
            duration_nanos: p.duration_nanos,
            period: p.period,
        };
        out.functions = resolve_functions(&self.functions, &mut strings)?;
        Ok(out)
    }
}

/// Functions last, when no other string is still to be resolved: a string's last use by a
/// function takes it out of the table instead of copying it, so the names are not held twice.
fn resolve_functions(
    wire: &[proto::Function],
    strings: &mut [String],
) -> Result<Vec<Function>, DecodeError> {
    let len = strings.len();
    let check = |what: &'static str, index: i64| {
        usize::try_from(index)
            .ok()
            .filter(|&i| i < len)
            .ok_or(DecodeError::StringIndex { what, index, len })
    };
    let mut uses = vec![0u32; len];
    for f in wire {
        uses[check("function name", f.name)?] += 1;
        uses[check("function system_name", f.system_name)?] += 1;
        uses[check("function filename", f.filename)?] += 1;
    }
    let mut take = |i: i64| {
        let i = i as usize;
        uses[i] -= 1;
        if uses[i] == 0 {
            std::mem::take(&mut strings[i])
        } else {
            strings[i].clone()
        }
    };
    Ok(wire
        .iter()
        .map(|f| Function {
            id: f.id,
            name: take(f.name),
            system_name: take(f.system_name),
            filename: take(f.filename),
            start_line: f.start_line,
        })
        .collect())
}
