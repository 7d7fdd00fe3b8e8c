//! Turns collected raw callchains into a pprof profile: symbolizes each address once (Go
//! pclntab with inline frames, else ELF symbols; kernel from kallsyms or one `[kernel]`
//! frame) and lays out `samples/count` + `cpu/nanoseconds` like `runtime/pprof` does.

use std::collections::HashMap;

use boxwise_goprog::elf::ElfImage;
use boxwise_pprof::proto;

use crate::pclntab::{Frame, Pclntab};
use crate::sample::Collected;
use crate::symbols::{ElfSymbols, Kallsyms, MapEntry};

/// `PERF_CONTEXT_MAX` (-4095): callchain entries at or above are context markers.
const CONTEXT_MAX: u64 = (-4095i64) as u64;
const CONTEXT_KERNEL: u64 = (-128i64) as u64;
const CONTEXT_USER: u64 = (-512i64) as u64;
const PT_LOAD: u32 = 1;

/// What the profile was symbolized from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Symbolizer {
    /// Go's pclntab; `inline` = the inline tree was found.
    GoPclntab {
        go120_layout: bool,
        inline: bool,
    },
    ElfSymbols,
    None,
}

/// The target's files as read at the I/O edge.
pub struct Target<'a> {
    pub exe: &'a [u8],
    /// The executable's path as the target sees it (`readlink /proc/PID/exe`).
    pub exe_path: &'a str,
    pub maps: &'a [MapEntry],
    pub kallsyms: Option<&'a Kallsyms>,
}

/// The built profile and facts about it for the report.
pub struct Built {
    pub profile: proto::Profile,
    pub symbolizer: Symbolizer,
    pub samples: u64,
    pub unsymbolized: u64,
}

#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        let mut s = Strings::default();
        s.get("");
        s
    }
    fn get(&mut self, v: &str) -> i64 {
        if let Some(&i) = self.index.get(v) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(v.to_string());
        self.index.insert(v.to_string(), i);
        i
    }
}

enum ExeSyms<'a> {
    Go(Pclntab<'a>),
    Elf(ElfSymbols),
    None,
}

/// PIE load bias: runtime address minus link-time address, from the executable mapping.
pub fn load_bias(image: &ElfImage<'_>, target: &Target<'_>) -> u64 {
    let same =
        |p: &str| p == target.exe_path || p.trim_end_matches(" (deleted)") == target.exe_path;
    for m in target.maps.iter().filter(|m| m.executable && same(&m.path)) {
        for s in image.segments.iter().filter(|s| s.kind == PT_LOAD) {
            if s.offset <= m.offset && m.offset < s.offset + s.filesz.max(1) {
                return m.start.wrapping_sub(s.vaddr + (m.offset - s.offset));
            }
        }
    }
    0
}

/// Builds the profile. Errors only when the executable is not ELF at all.
pub fn build(c: &Collected, target: &Target<'_>) -> Built {
    let image = ElfImage::parse(target.exe).ok();
    let syms = match &image {
        Some(img) => match Pclntab::from_elf(img) {
            Ok(t) => ExeSyms::Go(t),
            Err(_) => {
                let e = ElfSymbols::parse(target.exe);
                if e.is_empty() {
                    ExeSyms::None
                } else {
                    ExeSyms::Elf(e)
                }
            }
        },
        None => ExeSyms::None,
    };
    let symbolizer = match &syms {
        ExeSyms::Go(t) => Symbolizer::GoPclntab {
            go120_layout: t.is_go120(),
            inline: t.has_inline_tree(),
        },
        ExeSyms::Elf(_) => Symbolizer::ElfSymbols,
        ExeSyms::None => Symbolizer::None,
    };
    let bias = image.as_ref().map(|i| load_bias(i, target)).unwrap_or(0);

    let mut st = Strings::new();
    let mut p = proto::Profile {
        sample_type: vec![
            proto::ValueType {
                r#type: st.get("samples"),
                unit: st.get("count"),
            },
            proto::ValueType {
                r#type: st.get("cpu"),
                unit: st.get("nanoseconds"),
            },
        ],
        period_type: Some(proto::ValueType {
            r#type: st.get("cpu"),
            unit: st.get("nanoseconds"),
        }),
        period: c.period_ns as i64,
        time_nanos: c
            .started
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0),
        duration_nanos: c.elapsed.as_nanos() as i64,
        ..Default::default()
    };
    // Mapping 1: the executable, with its build id.
    let exe_maps: Vec<&MapEntry> = target
        .maps
        .iter()
        .filter(|m| m.executable && m.path.trim_end_matches(" (deleted)") == target.exe_path)
        .collect();
    let build_id = image
        .as_ref()
        .and_then(|i| i.go_build_id.clone().or_else(|| i.gnu_build_id.clone()))
        .unwrap_or_default();
    let has_functions = !matches!(syms, ExeSyms::None);
    let go = matches!(syms, ExeSyms::Go(_));
    p.mapping.push(proto::Mapping {
        id: 1,
        memory_start: exe_maps.first().map(|m| m.start).unwrap_or(0),
        memory_limit: exe_maps.first().map(|m| m.end).unwrap_or(0),
        file_offset: exe_maps.first().map(|m| m.offset).unwrap_or(0),
        filename: st.get(target.exe_path),
        build_id: st.get(&build_id),
        has_functions,
        has_filenames: go,
        has_line_numbers: go,
        has_inline_frames: go,
    });

    let mut funcs: HashMap<(String, String), u64> = HashMap::new();
    let mut locs: HashMap<(bool, u64), u64> = HashMap::new();
    let mut func_id =
        |p: &mut proto::Profile, st: &mut Strings, name: &str, file: &str, start: i64| {
            let key = (name.to_string(), file.to_string());
            if let Some(&id) = funcs.get(&key) {
                return id;
            }
            let id = p.function.len() as u64 + 1;
            let n = st.get(name);
            p.function.push(proto::Function {
                id,
                name: n,
                system_name: n,
                filename: st.get(file),
                start_line: start,
            });
            funcs.insert(key, id);
            id
        };
    let tid_key = st.get("thread_id");
    let mut unsymbolized = 0u64;
    let mut total = 0u64;
    let off = c.offcpu.as_deref().unwrap_or_default();
    if c.offcpu.is_some() {
        // A third value, off-CPU time; pprof still shows CPU unless asked
        // (`-sample_index=offcpu`).
        p.sample_type.push(proto::ValueType {
            r#type: st.get("offcpu"),
            unit: st.get("nanoseconds"),
        });
        p.default_sample_type = st.get("cpu");
    }
    let all = c
        .samples
        .iter()
        .map(|s| (s, false))
        .chain(off.iter().map(|s| (s, true)));
    for (s, is_off) in all {
        if !is_off {
            total += s.count;
        }
        let mut ids = Vec::new();
        let mut kernel = false;
        let mut first = true;
        let mut last_kernel_placeholder = false;
        let mut named = false;
        for &raw in &s.chain {
            if raw >= CONTEXT_MAX {
                kernel = raw == CONTEXT_KERNEL;
                if raw == CONTEXT_USER {
                    kernel = false;
                }
                continue;
            }
            // Return addresses point after the call; look up the call itself.
            let pc = if first { raw } else { raw.saturating_sub(1) };
            first = false;
            if kernel {
                let name = target.kallsyms.and_then(|k| k.lookup(raw));
                if name.is_none() {
                    if last_kernel_placeholder {
                        continue;
                    }
                    last_kernel_placeholder = true;
                }
                let key = (true, if name.is_some() { pc } else { 0 });
                let id = *locs.entry(key).or_insert_with(|| {
                    let fid = func_id(&mut p, &mut st, name.unwrap_or("[kernel]"), "", 0);
                    let id = p.location.len() as u64 + 1;
                    p.location.push(proto::Location {
                        id,
                        mapping_id: 0,
                        address: key.1,
                        line: vec![proto::Line {
                            function_id: fid,
                            line: 0,
                            column: 0,
                        }],
                        is_folded: false,
                    });
                    id
                });
                ids.push(id);
                continue;
            }
            let link = pc.wrapping_sub(bias);
            let id = match locs.get(&(false, pc)) {
                Some(&id) => id,
                None => {
                    let in_exe = exe_maps.iter().any(|m| m.start <= pc && pc < m.end);
                    // Another object's address (libc, vdso) is not the executable's symbol.
                    let frames: Vec<Frame> = match &syms {
                        _ if !in_exe && !exe_maps.is_empty() => Vec::new(),
                        ExeSyms::Go(t) => t.frames(link),
                        ExeSyms::Elf(e) => e
                            .lookup(link)
                            .map(|n| {
                                vec![Frame {
                                    function: n.to_string(),
                                    file: String::new(),
                                    line: 0,
                                    start_line: 0,
                                    inlined: false,
                                }]
                            })
                            .unwrap_or_default(),
                        ExeSyms::None => Vec::new(),
                    };
                    let lines: Vec<proto::Line> = if frames.is_empty() {
                        // Outside the executable's symbols: name the mapping it is in.
                        let name = target
                            .maps
                            .iter()
                            .find(|m| m.start <= pc && pc < m.end)
                            .map(|m| {
                                let base = m.path.rsplit('/').next().unwrap_or("");
                                if base.is_empty() {
                                    "[anon]".to_string()
                                } else if base.starts_with('[') {
                                    base.to_string()
                                } else {
                                    format!("[{base}]")
                                }
                            })
                            .unwrap_or_else(|| "[unknown]".to_string());
                        vec![proto::Line {
                            function_id: func_id(&mut p, &mut st, &name, "", 0),
                            line: 0,
                            column: 0,
                        }]
                    } else {
                        named = true;
                        frames
                            .iter()
                            .map(|f| proto::Line {
                                function_id: func_id(
                                    &mut p,
                                    &mut st,
                                    &f.function,
                                    &f.file,
                                    f.start_line,
                                ),
                                line: f.line,
                                column: 0,
                            })
                            .collect()
                    };
                    let id = p.location.len() as u64 + 1;
                    p.location.push(proto::Location {
                        id,
                        mapping_id: if in_exe { 1 } else { 0 },
                        address: pc,
                        line: lines,
                        is_folded: false,
                    });
                    locs.insert((false, pc), id);
                    id
                }
            };
            if p.location[id as usize - 1].line.len() > 1
                || p.function[p.location[id as usize - 1].line[0].function_id as usize - 1].filename
                    != 0
            {
                named = true;
            }
            ids.push(id);
            if let ExeSyms::Go(t) = &syms
                && t.top_frame(link)
            {
                break;
            }
        }
        if !named && !is_off {
            unsymbolized += s.count;
        }
        let value = match (c.offcpu.is_some(), is_off) {
            (false, _) => vec![s.count as i64, s.period as i64],
            (true, false) => vec![s.count as i64, s.period as i64, 0],
            (true, true) => vec![0, 0, s.period as i64],
        };
        p.sample.push(proto::Sample {
            location_id: ids,
            value,
            label: vec![proto::Label {
                key: tid_key,
                str: 0,
                num: s.tid as i64,
                num_unit: 0,
            }],
        });
    }
    if c.lost > 0 {
        let note = format!("{} samples lost (ring buffer overflow)", c.lost);
        let i = st.get(&note);
        p.comment.push(i);
    }
    p.string_table = st.table;
    Built {
        profile: p,
        symbolizer,
        samples: total,
        unsymbolized,
    }
}

/// Serializes and gzips a profile, as pprof files are stored on disk.
pub fn encode_gzip(p: &proto::Profile) -> Vec<u8> {
    use flate2::write::GzEncoder;
    use prost::Message;
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(&p.encode_to_vec());
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::RawSample;
    use proptest::prelude::*;
    use std::time::{Duration, SystemTime};

    fn collected(chains: Vec<Vec<u64>>) -> Collected {
        Collected {
            samples: chains
                .into_iter()
                .map(|chain| RawSample {
                    tid: 7,
                    chain,
                    count: 2,
                    period: 20,
                })
                .collect(),
            offcpu: None,
            lost: 3,
            threads: 1,
            started: SystemTime::UNIX_EPOCH,
            elapsed: Duration::from_secs(1),
            period_ns: 10,
            target_exited: false,
            interrupted: false,
            kernel_excluded: false,
        }
    }

    proptest! {
        /// Any callchain (markers, kernel and user addresses in any order) against any
        /// executable bytes builds a valid profile: every location id a sample names exists.
        #[test]
        fn any_chain_builds_a_consistent_profile(
            chains in proptest::collection::vec(proptest::collection::vec(any::<u64>(), 0..20), 0..8),
            exe in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let maps = crate::symbols::parse_maps("1000-2000 r-xp 0 0:0 0 /x\n");
            let c = collected(chains);
            let t = Target { exe: &exe, exe_path: "/x", maps: &maps, kallsyms: None };
            let b = build(&c, &t);
            prop_assert_eq!(b.samples, c.samples.iter().map(|s| s.count).sum::<u64>());
            for s in &b.profile.sample {
                prop_assert_eq!(s.value.len(), 2);
                for id in &s.location_id {
                    prop_assert!(*id >= 1 && (*id as usize) <= b.profile.location.len());
                }
            }
            prop_assert_eq!(b.profile.string_table.first().map(String::as_str), Some(""));
        }
    }

    #[test]
    fn kernel_frames_without_kallsyms_collapse_into_one() {
        let kernel = (-128i64) as u64;
        let user = (-512i64) as u64;
        let c = collected(vec![vec![
            kernel,
            0xffff_ffff_8100_0000,
            0xffff_ffff_8100_0010,
            user,
            0x1500,
        ]]);
        let maps = crate::symbols::parse_maps("1000-2000 r-xp 0 0:0 0 /x\n");
        let t = Target {
            exe: &[],
            exe_path: "/x",
            maps: &maps,
            kallsyms: None,
        };
        let b = build(&c, &t);
        let names: Vec<&str> = b.profile.sample[0]
            .location_id
            .iter()
            .map(|id| {
                let l = &b.profile.location[*id as usize - 1];
                let f = &b.profile.function[l.line[0].function_id as usize - 1];
                b.profile.string_table[f.name as usize].as_str()
            })
            .collect();
        assert_eq!(names, ["[kernel]", "[x]"]);
        // The lost count is written into the profile as a comment.
        assert!(
            b.profile
                .comment
                .iter()
                .any(|&i| b.profile.string_table[i as usize].contains("3 samples lost"))
        );
    }
}
