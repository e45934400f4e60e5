//! The hostile-input corpus: each entry goes through `verify` in the library, the CLI (one
//! `verify --manifest` run) and the gRPC service, and its outcome there (a verdict, or the
//! error's sentence and code) is asserted. The entries are generated here, except the
//! progressive JPEG, a photo of `../shared/eval-real`. Huge entries are declared, not
//! built: limits refuse them from their headers, so the corpus is cheap.

mod common;

use std::io::{Cursor, Write};
use std::process::Command;
use std::time::Duration;

use common::repo;
use common::service::{Server, client};
use image::{DynamicImage, ImageEncoder, Rgb, RgbImage};
use prost::Message;
use prost::bytes::{Buf, BufMut};
use sealcheck::error::sentence;
use sealcheck::service::pb::approved_document::Document;
use sealcheck::service::pb::{ApprovedDocument, VerifyRequest};
use sealcheck::verify::{Approved, Request};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;

/// What one channel made of an entry: `MATCH`, `UNREADABLE no_text`, ..., or the error's
/// sentence (with the gRPC code in front over gRPC).
type Outcome = String;

/// A capture and the approved text it is judged against.
struct Entry {
    name: &'static str,
    capture: Vec<u8>,
    approved: String,
}

fn sample_capture() -> Vec<u8> {
    std::fs::read(repo().join("testdata/samples/capture.jpg")).unwrap()
}

fn sample_text() -> String {
    std::fs::read_to_string(repo().join("testdata/samples/approved.txt")).unwrap()
}

fn encode(image: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn blank(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb([255, 255, 255])))
}

fn gradient() -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(64, 48, |x, y| Rgb([(x * 4) as u8, (y * 5) as u8, 90])))
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG written by hand, for what the `image` crate's encoder does not write: a palette,
/// or a header that declares what its data does not hold. `rows` is the filtered pixel
/// data, stored uncompressed in one zlib stream.
fn raw_png(width: u32, height: u32, depth: u8, colour: u8, palette: Option<&[u8]>, rows: &[u8]) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |tag: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let body: Vec<u8> = tag.iter().chain(data).copied().collect();
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut header = [width.to_be_bytes(), height.to_be_bytes()].concat();
    header.extend_from_slice(&[depth, colour, 0, 0, 0]);
    chunk(b"IHDR", &header);
    if let Some(palette) = palette {
        chunk(b"PLTE", palette);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in rows {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&(rows.len() as u16).to_le_bytes());
    zlib.extend_from_slice(&(!(rows.len() as u16)).to_le_bytes());
    zlib.extend_from_slice(rows);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    chunk(b"IDAT", &zlib);
    chunk(b"IEND", &[]);
    png
}

/// A 64×32 palette PNG: black stripes on white.
fn palette_png() -> Vec<u8> {
    let rows: Vec<u8> =
        (0..32).flat_map(|y| std::iter::once(0).chain((0..64).map(move |x| u8::from((x + y) % 8 < 2)))).collect();
    raw_png(64, 32, 8, 3, Some(&[255, 255, 255, 0, 0, 0]), &rows)
}

/// A 64×64 CMYK baseline JPEG of one flat colour, written by hand (the `image` crate's
/// encoder writes no CMYK): four components, every block's AC coefficients zero.
fn cmyk_jpeg() -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    let mut segment = |marker: u8, data: &[u8]| {
        jpeg.extend_from_slice(&[0xFF, marker]);
        jpeg.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(data);
    };
    // Adobe APP14, transform 0: the components are CMYK as stored.
    segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00");
    segment(0xDB, &[[0u8].as_slice(), &[1; 64]].concat());
    let mut frame = vec![8, 0, 64, 0, 64, 4];
    for id in 1..=4 {
        frame.extend_from_slice(&[id, 0x11, 0]);
    }
    segment(0xC0, &frame);
    // DC: two codes of length 2 (categories 0 and 10); AC: one code of length 1 (EOB).
    segment(0xC4, &[[0x00u8].as_slice(), &[0, 2], &[0; 14], &[0, 10]].concat());
    segment(0xC4, &[[0x10u8].as_slice(), &[1], &[0; 15], &[0x00]].concat());
    segment(0xDA, &[4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0]);
    // First MCU: each component's DC 10-bit difference 0b11_0000_0000 then EOB; the other
    // 63 MCUs: difference 0 (code 00) then EOB (code 0).
    let mut bits = String::new();
    for _ in 0..4 {
        bits.push_str("01");
        bits.push_str("1100000000");
        bits.push('0');
    }
    for _ in 1..64 {
        bits.push_str(&"000".repeat(4));
    }
    while !bits.len().is_multiple_of(8) {
        bits.push('1');
    }
    for i in (0..bits.len()).step_by(8) {
        let byte = u8::from_str_radix(&bits[i..i + 8], 2).unwrap();
        jpeg.push(byte);
        if byte == 0xFF {
            jpeg.push(0);
        }
    }
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

/// A two-frame animated 1×1 GIF (GIF is not a format sealcheck decodes).
fn animated_gif() -> Vec<u8> {
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    gif.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00");
    for _ in 0..2 {
        gif.extend_from_slice(
            b"\x21\xf9\x04\x00\x0a\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00",
        );
    }
    gif.push(0x3B);
    gif
}

/// `jpeg` with an APP1 segment holding `exif` (the bytes after `Exif\0\0`) after its SOI.
fn with_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
    let body = [b"Exif\0\0".as_slice(), exif].concat();
    let length = ((body.len() + 2) as u16).to_be_bytes();
    [&jpeg[..2], &[0xFF, 0xE1], &length, &body, &jpeg[2..]].concat()
}

/// The sample capture stored turned so that EXIF `orientation` turns it upright again.
fn oriented(orientation: u8) -> Vec<u8> {
    use image::metadata::Orientation;
    let upright = image::load_from_memory(&sample_capture()).unwrap();
    let tag = Orientation::from_exif(orientation).unwrap();
    let mut stored = upright;
    // Each orientation is its own inverse but the quarter turns, which swap.
    stored.apply_orientation(match tag {
        Orientation::Rotate90 => Orientation::Rotate270,
        Orientation::Rotate270 => Orientation::Rotate90,
        other => other,
    });
    let mut jpeg = Vec::new();
    let rgb = stored.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .write_image(rgb.as_raw(), rgb.width(), rgb.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    let ifd = [b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0".as_slice(), &[orientation], &[0; 6]].concat();
    with_exif(&jpeg, &ifd)
}

fn entries() -> Vec<Entry> {
    let text = sample_text();
    let entry = |name, capture| Entry { name, capture, approved: text.clone() };
    let jpeg = sample_capture();
    let (png, webp) = (encode(&gradient(), image::ImageFormat::Png), encode(&gradient(), image::ImageFormat::WebP));
    let sixteen = DynamicImage::ImageRgb16(gradient().to_rgb16());
    let mut corpus = vec![
        entry("zero bytes", Vec::new()),
        entry("truncated JPEG", jpeg[..jpeg.len() / 2].to_vec()),
        entry("truncated PNG", png[..png.len() / 2].to_vec()),
        entry("truncated WebP", webp[..webp.len() / 2].to_vec()),
        entry("PNG declaring 30000x30000", raw_png(30_000, 30_000, 8, 2, None, &[0; 16])),
        entry("1x1", encode(&blank(1, 1), image::ImageFormat::Png)),
        entry("100000x1", encode(&blank(100_000, 1), image::ImageFormat::Png)),
        entry("1x100000", encode(&blank(1, 100_000), image::ImageFormat::Png)),
        entry("CMYK JPEG", cmyk_jpeg()),
        entry("progressive JPEG", std::fs::read(common::eval_real().join("images/easyocr__chinese.jpg")).unwrap()),
        entry("16-bit PNG", encode(&sixteen, image::ImageFormat::Png)),
        entry("palette PNG", palette_png()),
        entry("animated GIF", animated_gif()),
        entry("corrupt EXIF", with_exif(&jpeg, b"MM\0\x2a\xff\xff\xff\xf0garbage")),
    ];
    const ORIENTATIONS: [&str; 8] = ["EXIF 1", "EXIF 2", "EXIF 3", "EXIF 4", "EXIF 5", "EXIF 6", "EXIF 7", "EXIF 8"];
    corpus.extend((1..=8).map(|o| entry(ORIENTATIONS[o as usize - 1], oriented(o))));
    let with_text = |name, approved: String| Entry { name, capture: jpeg.clone(), approved };
    corpus.push(with_text("approved text empty", String::new()));
    corpus.push(with_text("approved text of 10 MB", "条".repeat(TEN_MB / 3)));
    corpus.push(with_text("approved text of control characters", "\u{1}\u{7}\u{1b}\u{7f}\t\r\n\u{85}".repeat(40)));
    corpus
}

/// About 10 MB of text: 10 MiB in three-byte characters.
const TEN_MB: usize = 10 << 20;

/// What each entry gets locally (the library and the CLI say the same) and from the
/// service, whose limits answer first for what they check.
fn expected(name: &str) -> (String, String) {
    let invalid = |message: &str| format!("InvalidArgument: {message}");
    let same = |message: &str| (message.to_string(), invalid(message));
    let verdict = |v: &str| (v.to_string(), v.to_string());
    let not_an_image = "the capture is not an image sealcheck can decode (JPEG, PNG, WebP or BMP)";
    match name {
        "zero bytes" => (
            "the image format is not recognised (JPEG, PNG, WebP and BMP are supported)".into(),
            invalid(&format!("{not_an_image}: it is empty")),
        ),
        "truncated JPEG" => same("the JPEG data stops before its end-of-image marker: the file is truncated"),
        "truncated PNG" => same("the image could not be decoded: unexpected end of file"),
        "truncated WebP" => {
            same("the image could not be decoded: Format error decoding WebP: Corrupt bitstream: Corrupt bitstream")
        }
        "PNG declaring 30000x30000" => (
            "the image is 30000×30000 = 900000000 pixels, above the limit of 40000000 pixels".into(),
            invalid(
                "the capture is 30000×30000 = 900000000 pixels, above the limit of 40000000 pixels (max_image_pixels)",
            ),
        ),
        "1x1" | "100000x1" | "1x100000" | "CMYK JPEG" | "16-bit PNG" | "palette PNG" => verdict("UNREADABLE no_text"),
        "animated GIF" => (
            "the image could not be decoded: The image format Gif is not supported".into(),
            invalid(&format!("{not_an_image}: The image format Gif is not supported")),
        ),
        "corrupt EXIF" => verdict("MATCH"),
        name if name.starts_with("EXIF ") => verdict("MATCH"),
        "progressive JPEG" | "approved text empty" | "approved text of control characters" => verdict("MISMATCH"),
        "approved text of 10 MB" => {
            let bytes = TEN_MB / 3 * 3;
            (
                format!(
                    "the approved text is {bytes} bytes, above the limit of 4194304 bytes (about 900 pages of CJK text)"
                ),
                invalid(&format!(
                    "the approved text is {bytes} bytes, above the limit of 1048576 bytes (max_approved_text_bytes)"
                )),
            )
        }
        other => panic!("no expected outcome for {other}"),
    }
}

fn verdict_of(outcome: &str, reason: Option<&str>) -> Outcome {
    match reason {
        Some(reason) => format!("{outcome} {reason}"),
        None => outcome.into(),
    }
}

#[test]
fn the_library_judges_or_refuses_every_entry() {
    let verifier = common::verifier();
    for entry in entries() {
        let request = Request::new(entry.capture, Approved::Text(entry.approved));
        let got = match verifier.verify(request) {
            Ok(report) => {
                let reason = report.verdict.reason.map(|r| serde_json::to_value(r).unwrap());
                verdict_of(&report.verdict.outcome.to_string(), reason.as_ref().and_then(|r| r.as_str()))
            }
            Err(e) => sentence(&e),
        };
        assert_eq!(got, expected(entry.name).0, "{}", entry.name);
    }
}

/// A process's peak resident memory, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: 0 kB");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn the_cli_judges_or_refuses_every_entry() {
    let dir = std::env::temp_dir().join(format!("sealcheck-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut manifest = std::fs::File::create(dir.join("corpus.jsonl")).unwrap();
    let corpus = entries();
    for (i, entry) in corpus.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.img")), &entry.capture).unwrap();
        std::fs::write(dir.join(format!("{i}.txt")), &entry.approved).unwrap();
        let line = serde_json::json!({"id": entry.name, "image": format!("{i}.img"), "approved_text_file": format!("{i}.txt")});
        writeln!(manifest, "{line}").unwrap();
    }
    drop(manifest);
    let (out, peak) = run_measured(&["verify", "--json", "--manifest", dir.join("corpus.jsonl").to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(String::from).collect();
    assert_eq!(lines.len(), corpus.len(), "one result per entry");
    for (line, entry) in lines.iter().zip(&corpus) {
        let result: serde_json::Value = serde_json::from_str(line).unwrap();
        let got = match result["error"].as_str() {
            Some(error) => error.to_string(),
            None => verdict_of(result["verdict"]["outcome"].as_str().unwrap(), result["verdict"]["reason"].as_str()),
        };
        assert_eq!(result["id"], entry.name);
        assert_eq!(got, expected(entry.name).0, "{}", entry.name);
    }
    assert_eq!(out.status.code(), Some(2), "a failed job makes the run's status trouble");
    let failed = String::from_utf8(out.stderr).unwrap().lines().filter(|l| l.contains(": ")).count();
    assert!(failed >= 7, "each failed job is named on stderr");
    assert!(peak < 2 << 20, "the CLI's resident memory peaked at {peak} KiB, above 2 GiB");
    println!("the CLI's peak resident memory over the corpus: {} MiB", peak >> 10);
}

/// Run `sealcheck args`, with its peak resident memory in KiB, read while it runs.
fn run_measured(args: &[&str]) -> (std::process::Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sealcheck"))
        .args(args)
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let (stdout, stderr) = (read(Box::new(stdout)), read(Box::new(stderr)));
    let mut peak = 0;
    let status = loop {
        peak = peak.max(peak_rss_kib(pid));
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = std::process::Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    (output, peak)
}

#[tokio::test]
async fn the_service_judges_or_refuses_every_entry() {
    let server = Server::start(2, 8);
    let api = client(server.address).await.max_encoding_message_size(64 << 20);
    for entry in entries() {
        let approved = Some(ApprovedDocument { document: Some(Document::Text(entry.approved)) });
        let request =
            VerifyRequest { request_id: entry.name.into(), image: entry.capture, approved, ..Default::default() };
        let got = match api.clone().verify(request).await {
            Ok(response) => {
                let verdict = response.into_inner().report.unwrap().verdict.unwrap();
                let outcome = verdict.outcome().as_str_name().trim_start_matches("OUTCOME_").to_string();
                let reason = verdict.reason().as_str_name().trim_start_matches("UNREADABLE_REASON_").to_lowercase();
                verdict_of(&outcome, (reason != "unspecified").then_some(&reason))
            }
            Err(status) => format!("{:?}: {}", status.code(), status.message()),
        };
        assert_eq!(got, expected(entry.name).1, "{}", entry.name);
    }
    server.stop().await.unwrap();
}

/// Bytes sent and received as they are, so that a test can send a message the generated
/// client would not encode.
#[derive(Clone, Copy)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        Ok(Some(bytes.to_vec()))
    }
}

#[tokio::test]
async fn an_approved_text_of_invalid_utf8_is_refused_by_the_service_as_a_message_that_does_not_parse() {
    let server = Server::start(1, 1);
    client(server.address).await; // once it is serving
    let request = VerifyRequest {
        request_id: "invalid UTF-8".into(),
        image: sample_capture(),
        approved: Some(ApprovedDocument { document: Some(Document::Text("@@@@".into())) }),
        ..Default::default()
    };
    let mut bytes = request.encode_to_vec();
    let at = bytes.windows(4).position(|w| w == b"@@@@").unwrap();
    bytes[at..at + 4].copy_from_slice(&[0xFF, 0xFE, 0xC0, 0x80]);
    let channel = common::service::channel(server.address).await;
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = PathAndQuery::from_static("/sealcheck.v1.SealCheckService/Verify");
    let status = grpc.unary(tonic::Request::new(bytes), path, Raw).await.unwrap_err();
    // gRPC's status code table: a request that does not parse is INTERNAL (tonic's codec).
    assert_eq!(status.code(), tonic::Code::Internal);
    assert_eq!(
        status.message(),
        "failed to decode Protobuf message: ApprovedDocument.document: VerifyRequest.approved: invalid string value: \
         data is not UTF-8 encoded"
    );
    server.stop().await.unwrap();
}
