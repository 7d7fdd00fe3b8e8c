//! Bytes -> `Profile`: gunzip when gzip magic is present, decode the protobuf, then resolve
//! and check every string index and id so the reports can trust the model.

use std::collections::HashMap;
use std::io::Read;

use prost::Message;

use crate::model::{Function, Label, Line, Location, Mapping, Profile, Sample, ValueType};
use crate::proto;

/// Decompressed profiles larger than this are refused (a gzip bomb guard).
pub const MAX_DECODED: u64 = 2 << 30;

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty input")]
    Empty,
    #[error("not a pprof protobuf: a sample runs past the end of the data")]
    Truncated,
    #[error("gunzip: {0}")]
    Gzip(std::io::Error),
    #[error("decompressed profile is larger than {MAX_DECODED} bytes")]
    TooLarge,
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
    if data.starts_with(&[0x1f, 0x8b]) {
        let raw = gunzip(data)?;
        return decode_uncompressed(&raw);
    }
    decode_uncompressed(data)
}

/// Decodes from a reader (a file), gunzipping as it reads so the compressed bytes are never
/// held whole.
pub fn decode_reader(mut r: impl Read) -> Result<Profile, DecodeError> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match r.read(&mut magic[got..]).map_err(DecodeError::Gzip)? {
            0 => break,
            n => got += n,
        }
    }
    let head = &magic[..got];
    let mut raw = Vec::new();
    if head == [0x1f, 0x8b] {
        flate2::read::MultiGzDecoder::new(head.chain(r))
            .take(MAX_DECODED + 1)
            .read_to_end(&mut raw)
            .map_err(DecodeError::Gzip)?;
    } else {
        raw.extend_from_slice(head);
        r.take(MAX_DECODED + 1)
            .read_to_end(&mut raw)
            .map_err(DecodeError::Gzip)?;
    }
    if raw.len() as u64 > MAX_DECODED {
        return Err(DecodeError::TooLarge);
    }
    decode_uncompressed(&raw)
}

/// Decodes an uncompressed protobuf. Samples (most of a profile) are decoded one at a time
/// straight into the model, so the wire form of all samples never exists at once.
pub fn decode_uncompressed(raw: &[u8]) -> Result<Profile, DecodeError> {
    use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
    if raw.is_empty() {
        return Err(DecodeError::Empty);
    }
    let mut rest = Vec::new();
    let mut samples: Vec<(usize, usize)> = Vec::new();
    let mut buf = raw;
    while !buf.is_empty() {
        let start = raw.len() - buf.len();
        let (tag, wt) = decode_key(&mut buf)?;
        if tag == 2 && wt == WireType::LengthDelimited {
            let len = decode_varint(&mut buf)?;
            if len > buf.len() as u64 {
                return Err(DecodeError::Truncated);
            }
            let at = raw.len() - buf.len();
            samples.push((at, at + len as usize));
            buf = &buf[len as usize..];
        } else {
            skip_field(wt, tag, &mut buf, DecodeContext::default())?;
            rest.extend_from_slice(&raw[start..raw.len() - buf.len()]);
        }
    }
    let wire = proto::Profile::decode(&rest[..])?;
    drop(rest);
    resolve_with(
        wire,
        samples
            .into_iter()
            .map(|(a, b)| proto::Sample::decode(&raw[a..b]).map_err(DecodeError::from)),
    )
}

fn gunzip(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    // The gzip trailer holds the size mod 2^32: reserve it exactly (capped) instead of
    // doubling, which would briefly hold 1.5-3x the profile.
    let isize = data.len().checked_sub(4).map_or(0, |i| {
        u32::from_le_bytes(data[i..].try_into().unwrap_or([0; 4])) as usize
    });
    let mut out = Vec::with_capacity(isize.clamp(data.len(), 64 << 20).saturating_add(1));
    flate2::read::MultiGzDecoder::new(data)
        .take(MAX_DECODED + 1)
        .read_to_end(&mut out)
        .map_err(DecodeError::Gzip)?;
    if out.len() as u64 > MAX_DECODED {
        return Err(DecodeError::TooLarge);
    }
    Ok(out)
}

/// Resolves a wire profile: string indices become strings, ids become vector indices.
pub fn resolve(mut p: proto::Profile) -> Result<Profile, DecodeError> {
    let samples = std::mem::take(&mut p.sample);
    resolve_with(p, samples.into_iter().map(Ok))
}

fn resolve_with(
    p: proto::Profile,
    wire_samples: impl Iterator<Item = Result<proto::Sample, DecodeError>>,
) -> Result<Profile, DecodeError> {
    let strings = p.string_table;
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
    let mut mapping_ix = HashMap::with_capacity(p.mapping.len());
    for m in &p.mapping {
        index_id(&mut mapping_ix, "mapping", m.id, mappings.len())?;
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

    let mut functions = Vec::with_capacity(p.function.len());
    let mut function_ix = HashMap::with_capacity(p.function.len());
    for f in &p.function {
        index_id(&mut function_ix, "function", f.id, functions.len())?;
        functions.push(Function {
            id: f.id,
            name: s("function name", f.name)?,
            system_name: s("function system_name", f.system_name)?,
            filename: s("function filename", f.filename)?,
            start_line: f.start_line,
        });
    }

    let mut locations = Vec::with_capacity(p.location.len());
    let mut location_ix = HashMap::with_capacity(p.location.len());
    for l in &p.location {
        index_id(&mut location_ix, "location", l.id, locations.len())?;
        let mapping = lookup(&mapping_ix, "location", "mapping", l.mapping_id)?;
        let lines = l
            .line
            .iter()
            .map(|ln| {
                Ok(Line {
                    function: lookup(&function_ix, "location line", "function", ln.function_id)?,
                    line: ln.line,
                    column: ln.column,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        locations.push(Location {
            id: l.id,
            mapping,
            address: l.address,
            lines,
            is_folded: l.is_folded,
        });
    }

    let sample_types = p
        .sample_type
        .iter()
        .map(|t| vt(t, "sample_type"))
        .collect::<Result<Vec<_>, _>>()?;
    let mut samples = Vec::with_capacity(wire_samples.size_hint().0);
    for (index, smp) in wire_samples.enumerate() {
        let smp = smp?;
        if smp.value.len() != sample_types.len() {
            return Err(DecodeError::ValueCount {
                index,
                values: smp.value.len(),
                types: sample_types.len(),
            });
        }
        let locs = smp
            .location_id
            .iter()
            .map(|&id| {
                lookup(&location_ix, "sample", "location", id)?.ok_or(DecodeError::ZeroId {
                    what: "sample location",
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let labels = smp
            .label
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
        samples.push(Sample {
            locations: locs,
            values: smp.value,
            labels,
        });
    }

    Ok(Profile {
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
        locations,
        functions,
        mappings,
        time_nanos: p.time_nanos,
        duration_nanos: p.duration_nanos,
        period: p.period,
    })
}

fn index_id(
    ix: &mut HashMap<u64, u32>,
    what: &'static str,
    id: u64,
    at: usize,
) -> Result<(), DecodeError> {
    if id == 0 {
        return Err(DecodeError::ZeroId { what });
    }
    if ix.insert(id, at as u32).is_some() {
        return Err(DecodeError::DuplicateId { what, id });
    }
    Ok(())
}

/// Id 0 means "none"; any other id must exist.
fn lookup(
    ix: &HashMap<u64, u32>,
    from: &'static str,
    what: &'static str,
    id: u64,
) -> Result<Option<u32>, DecodeError> {
    if id == 0 {
        return Ok(None);
    }
    ix.get(&id)
        .copied()
        .map(Some)
        .ok_or(DecodeError::MissingId { from, what, id })
}
