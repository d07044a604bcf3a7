//! The placeholder picture a multimodal snippet carries for its page.
//!
//! The real service extracts the figures of a page and has a model caption them;
//! the emulator does neither and stands in one small grayscale PNG per page. It
//! is the same for the same page number on every run, and differs from page to
//! page (the number's bits are drawn as dark stripes inside a frame), so a test
//! can tell pages apart by the image alone.

use std::io::Write;

/// Width and height in pixels.
const SIDE: u32 = 32;

/// A `SIDE`×`SIDE` 8-bit grayscale PNG for page `page`.
pub(crate) fn placeholder_png(page: u32) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((SIDE + 1) * SIDE) as usize);
    for y in 0..SIDE {
        raw.push(0); // filter: none
        for x in 0..SIDE {
            let frame = x == 0 || y == 0 || x == SIDE - 1 || y == SIDE - 1;
            let stripe = (4..SIDE - 4).contains(&y) && page >> (x / 2) & 1 == 1;
            raw.push(if frame || stripe { 0x20 } else { 0xF0 });
        }
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&SIDE.to_be_bytes());
    header.extend_from_slice(&SIDE.to_be_bytes());
    header.extend_from_slice(&[8, 0, 0, 0, 0]); // 8 bits, grayscale, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &header);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(&raw);
    chunk(&mut png, b"IDAT", &z.finish().unwrap_or_default());
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn a_valid_png_that_depends_on_the_page_only() {
        let one = placeholder_png(1);
        assert_eq!(&one[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&one[12..16], b"IHDR");
        assert_eq!(one, placeholder_png(1));
        assert_ne!(one, placeholder_png(2));
        // The IDAT chunk inflates to SIDE rows of 1 + SIDE bytes.
        let len = u32::from_be_bytes(one[33..37].try_into().unwrap()) as usize;
        assert_eq!(&one[37..41], b"IDAT");
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&one[41..41 + len])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), ((SIDE + 1) * SIDE) as usize);
        // The IHDR's CRC is the standard one of "IHDR" + its data.
        let mut crc = flate2::Crc::new();
        crc.update(&one[12..29]);
        assert_eq!(one[29..33], crc.sum().to_be_bytes());
    }
}
