//! The bounds on what one request may carry, checked before it is queued.
//!
//! Each field has its own limit, so the message names the one broken; an image's pixels are
//! read from its header, before anything is decoded or allocated for it.

use std::io::Cursor;

use image::ImageReader;

use super::pb::{self, approved_document::Document};
use super::status::ServiceError;
use crate::compare::Policy;
use crate::error::Error;

/// What one request may carry, and what the service keeps of prepared documents.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest gRPC message received (the transport's cap).
    pub max_message_bytes: usize,
    /// Largest encoded image, capture or page.
    pub max_image_bytes: usize,
    /// Most pixels in an image, from its header.
    pub max_image_pixels: u64,
    /// Longest approved text, in UTF-8 bytes.
    pub max_approved_text_bytes: usize,
    /// Most approved page images.
    pub max_approved_pages: usize,
    /// Most prepared documents kept.
    pub max_prepared_documents: usize,
    /// Most bytes of prepared text kept.
    pub max_prepared_bytes: usize,
}

const MIB: usize = 1 << 20;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 32 * MIB,
            max_image_bytes: 24 * MIB,
            // As the CLI's engine (`read::config::Limits::max_pixels`).
            max_image_pixels: 40_000_000,
            max_approved_text_bytes: MIB,
            max_approved_pages: 20,
            max_prepared_documents: 256,
            max_prepared_bytes: 256 * MIB,
        }
    }
}

/// A request field over its limit, missing, or not an image.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("{what} is {size} bytes, above the limit of {limit} bytes ({name})")]
    Bytes { what: String, size: usize, limit: usize, name: &'static str },
    #[error("{what} is {width}×{height} = {pixels} pixels, above the limit of {limit} pixels (max_image_pixels)")]
    Pixels { what: String, width: u32, height: u32, pixels: u64, limit: u64 },
    #[error("the approved document has {pages} pages, above the limit of {limit} pages (max_approved_pages)")]
    Pages { pages: usize, limit: usize },
    #[error("{what} is not an image sealcheck can decode (JPEG, PNG, WebP or BMP): {reason}")]
    Undecodable { what: String, reason: String },
    #[error("the request has no {0}")]
    Missing(&'static str),
}

impl Limits {
    /// An encoded image (`what` names it in the message): its size, its format and its
    /// pixels as the header gives them.
    pub fn image(&self, what: &str, bytes: &[u8]) -> Result<(), LimitError> {
        let undecodable = |reason: String| LimitError::Undecodable { what: what.into(), reason };
        if bytes.is_empty() {
            return Err(undecodable("it is empty".into()));
        }
        let limit = self.max_image_bytes;
        if bytes.len() > limit {
            return Err(LimitError::Bytes { what: what.into(), size: bytes.len(), limit, name: "max_image_bytes" });
        }
        let reader =
            ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| undecodable(e.to_string()))?;
        if reader.format().is_none() {
            return Err(undecodable("the format is not recognised".into()));
        }
        let (width, height) = reader.into_dimensions().map_err(|e| undecodable(e.to_string()))?;
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_image_pixels {
            return Err(LimitError::Pixels { what: what.into(), width, height, pixels, limit: self.max_image_pixels });
        }
        Ok(())
    }

    /// An approved text's length.
    pub fn text(&self, text: &str) -> Result<(), LimitError> {
        let limit = self.max_approved_text_bytes;
        if text.len() > limit {
            let what = "the approved text".into();
            return Err(LimitError::Bytes { what, size: text.len(), limit, name: "max_approved_text_bytes" });
        }
        Ok(())
    }

    /// What a press carries, checked before it is queued: the capture, the approved
    /// document (a prepared id is the cache's to look up) and the policy, which may only
    /// tighten. The service and the request fuzz target (`crate::harness`) both call it.
    pub fn press(&self, request: &pb::VerifyRequest) -> Result<Option<Policy>, ServiceError> {
        self.image("the capture", &request.image)?;
        self.document(request.approved.as_ref())?;
        let overrides = request.policy.clone().map(|p| p.into());
        Ok(overrides.map(|o| Policy::with_overrides(&o)).transpose().map_err(Error::from)?)
    }

    /// An approved document given inline: a text's length, or its page images.
    pub fn document<'a>(&self, approved: Option<&'a pb::ApprovedDocument>) -> Result<&'a Document, LimitError> {
        let document = approved.and_then(|a| a.document.as_ref()).ok_or(LimitError::Missing("approved document"))?;
        match document {
            Document::Text(text) => self.text(text)?,
            Document::Pages(pages) => self.pages(&pages.images)?,
            Document::PreparedId(_) => {}
        }
        Ok(document)
    }

    /// An approved document's page images: their count, and each as an image.
    pub fn pages(&self, pages: &[Vec<u8>]) -> Result<(), LimitError> {
        if pages.is_empty() {
            return Err(LimitError::Missing("approved page image"));
        }
        if pages.len() > self.max_approved_pages {
            return Err(LimitError::Pages { pages: pages.len(), limit: self.max_approved_pages });
        }
        pages.iter().enumerate().try_for_each(|(i, page)| self.image(&format!("approved page {}", i + 1), page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbImage::new(width, height)
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .expect("a PNG encodes");
        bytes
    }

    #[test]
    fn each_limit_is_named_when_broken() {
        let limits = Limits { max_image_pixels: 100, max_image_bytes: 1000, ..Limits::default() };
        assert!(limits.image("the capture", &png(10, 10)).is_ok());
        let big = limits.image("the capture", &png(11, 10)).unwrap_err().to_string();
        assert_eq!(big, "the capture is 11×10 = 110 pixels, above the limit of 100 pixels (max_image_pixels)");
        let heavy = limits.image("the capture", &vec![0; 1001]).unwrap_err().to_string();
        assert!(heavy.contains("above the limit of 1000 bytes (max_image_bytes)"), "{heavy}");
        assert!(matches!(limits.image("the capture", b"not an image"), Err(LimitError::Undecodable { .. })));
        let pages = vec![png(2, 2); 21];
        assert!(matches!(limits.pages(&pages), Err(LimitError::Pages { pages: 21, limit: 20 })));
    }
}
