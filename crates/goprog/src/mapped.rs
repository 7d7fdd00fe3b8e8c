//! A read-only view of a whole file: memory-mapped, so that a 75 MB binary costs only the
//! pages the reader touches (headers, the build-info blob, notes), or read into memory when
//! the file cannot be mapped (empty files, pipes, special files).

use std::io::Read;
use std::num::NonZeroUsize;
use std::path::Path;
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, ProtFlags, mmap, munmap};

pub(crate) enum Mapped {
    Map { ptr: NonNull<u8>, len: usize },
    Owned(Vec<u8>),
}

impl Mapped {
    pub(crate) fn open(path: &Path) -> std::io::Result<Mapped> {
        // Regular files only: a FIFO would block, a device never end.
        let mut file = boxwise_box::host::open_regular(path)?;
        let meta = file.metadata()?;
        let len = usize::try_from(meta.len()).ok().and_then(NonZeroUsize::new);
        if let (true, Some(len)) = (meta.is_file(), len) {
            // SAFETY: a private, read-only mapping of a file we opened; the bytes are only
            // ever read through `bytes()`, whose lifetime is tied to this value. (If another
            // process truncates the file meanwhile, reads past the new end fault, as with any
            // mapped reader.)
            let mapped = unsafe {
                mmap(
                    None,
                    len,
                    ProtFlags::PROT_READ,
                    MapFlags::MAP_PRIVATE,
                    &file,
                    0,
                )
            };
            if let Ok(ptr) = mapped {
                return Ok(Mapped::Map {
                    ptr: ptr.cast(),
                    len: len.get(),
                });
            }
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        Ok(Mapped::Owned(data))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: `ptr` maps `len` readable bytes until `drop`.
            Mapped::Map { ptr, len } => unsafe { std::slice::from_raw_parts(ptr.as_ptr(), *len) },
            Mapped::Owned(v) => v,
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if let Mapped::Map { ptr, len } = self {
            // SAFETY: unmapping the region mapped in `open`; no borrow of it outlives `self`.
            let _ = unsafe { munmap(ptr.cast(), *len) };
        }
    }
}
