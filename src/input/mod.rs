//! Input files read with a bound on their size, and the manifests that name them.
//!
//! Every file a user names is read whole into memory (images and texts are small), so a
//! wrong path must not make the program allocate without limit.

pub mod manifest;

use std::io::Read;
use std::path::Path;

/// Most bytes an input file (a capture, an approved document, a manifest, a font) may
/// hold: far above a 40-megapixel image, even uncompressed, and a bound on what a wrong
/// path (`/dev/zero`, a disk image) can make the program allocate.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// The bytes of the file at `path`, refused when it holds more than [`MAX_INPUT_BYTES`].
pub fn read_input(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        let limit = MAX_INPUT_BYTES >> 20;
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {limit} MiB, the limit for an input file"),
        ));
    }
    Ok(bytes)
}
