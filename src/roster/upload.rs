//! An uploaded file on its way in: written to a private temporary file as it arrives (hashed
//! on the way), so that an upload costs the service a buffer, not its size in memory, however
//! many arrive at once. The file is removed when the value is dropped.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

/// The bytes of an upload, in a temporary file readable only by the service.
#[derive(Debug)]
pub struct UploadedFile {
    file: tempfile::TempPath,
    len: u64,
    sha256: String,
}

/// Writes an upload chunk by chunk.
pub struct UploadWriter {
    path: tempfile::TempPath,
    out: tokio::io::BufWriter<tokio::fs::File>,
    hasher: Sha256,
    len: u64,
}

impl UploadWriter {
    /// A new, empty upload.
    pub async fn new() -> std::io::Result<UploadWriter> {
        let (file, path) = tempfile::Builder::new()
            .prefix("cancer-aid-upload-")
            .tempfile()?
            .into_parts();
        Ok(UploadWriter {
            path,
            out: tokio::io::BufWriter::with_capacity(256 * 1024, tokio::fs::File::from_std(file)),
            hasher: Sha256::new(),
            len: 0,
        })
    }

    /// Appends a chunk.
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        self.out.write_all(chunk).await
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The finished upload.
    pub async fn finish(mut self) -> std::io::Result<UploadedFile> {
        // Flushed to the kernel, which is all the parser process needs to read it: a
        // temporary file is not worth an fsync.
        self.out.flush().await?;
        Ok(UploadedFile {
            file: self.path,
            len: self.len,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

impl UploadedFile {
    /// An upload of `bytes` (the command line, the demo, tests).
    pub async fn from_bytes(bytes: &[u8]) -> std::io::Result<UploadedFile> {
        let mut w = UploadWriter::new().await?;
        for chunk in bytes.chunks(1024 * 1024) {
            w.write(chunk).await?;
        }
        w.finish().await
    }

    /// An upload of the file at `path`, copied a chunk at a time.
    pub async fn from_path(path: &Path) -> std::io::Result<UploadedFile> {
        let mut input = std::fs::File::open(path)?;
        let mut w = UploadWriter::new().await?;
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            w.write(&buf[..n]).await?;
        }
        w.finish().await
    }

    /// Where the bytes are.
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// How many bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the upload is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The SHA-256 of the bytes, in hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}
