//! Attachments: files, folders and images the user adds to a message. Turns what the user gave
//! (a path from the picker or a drop, image bytes from the clipboard) into an [`Attachment`],
//! checks it before anything is sent (it exists, it can be read, it lies inside what the user
//! chose, an image is an image the model takes and not too big) and maps it to the SDK's shape.
//! Every refusal says what was wrong in words; nothing here talks to the CLI.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::error::{EngineError, EngineResult};

/// The largest image the app sends (after decoding), and how the messages name it.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_IMAGE_TEXT: &str = "5 MB";
/// Image types the models take.
pub const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// One attachment of a message, as the composer holds it and the transcript shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Attachment {
    /// A file by its absolute path; the CLI reads it.
    File { path: String },
    /// A folder by its absolute path.
    Directory { path: String },
    /// An image's bytes (base64) with its MIME type; `name` labels the chip.
    Image { name: String, mime_type: String, data: String },
}

impl Attachment {
    /// What a chip or a message calls it.
    pub fn label(&self) -> String {
        match self {
            Attachment::File { path } | Attachment::Directory { path } => file_name(Path::new(path)),
            Attachment::Image { name, .. } => name.clone(),
        }
    }
}

/// The files and folders the user chose in this run (picker or drop): an attachment by path
/// must be one of them or inside one of them, so nothing else (the webview, a model's text) can
/// make the app attach a path the user never picked. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct ChosenPaths(Arc<Mutex<Vec<PathBuf>>>);

impl ChosenPaths {
    /// Remember that the user chose `path`.
    pub fn allow(&self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut chosen = self.0.lock().unwrap();
        if !chosen.contains(&path) {
            chosen.push(path);
        }
    }

    /// Whether `path` is a chosen path or lies inside a chosen folder.
    pub fn permits(&self, path: &Path) -> bool {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.0.lock().unwrap().iter().any(|chosen| path.starts_with(chosen))
    }

    /// Refuse the first attachment by path that the user did not choose.
    pub fn check(&self, attachments: &[Attachment]) -> EngineResult<()> {
        for attachment in attachments {
            if let Attachment::File { path } | Attachment::Directory { path } = attachment
                && !self.permits(Path::new(path))
            {
                return Err(invalid(format!(
                    "{path} is outside the files and folders you chose. Attach it with the Attach button or by dropping it on the window."
                )));
            }
        }
        Ok(())
    }
}

/// What came of adding paths: the attachments made, and a sentence for each path refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AttachOutcome {
    pub attachments: Vec<Attachment>,
    pub problems: Vec<String>,
}

/// Paths the user chose (in the picker, or dropped on the window): remembered as chosen, and
/// turned into attachments one by one (a bad one does not stop the others).
pub fn from_chosen_paths(paths: &[PathBuf], chosen: &ChosenPaths) -> AttachOutcome {
    let mut outcome = AttachOutcome::default();
    for path in paths {
        chosen.allow(path);
        match from_path(path) {
            Ok(attachment) => outcome.attachments.push(attachment),
            Err(problem) => outcome.problems.push(problem.to_string()),
        }
    }
    outcome
}

/// An attachment of a sent message, as the transcript shows it.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SentAttachment {
    File {
        name: String,
        path: String,
    },
    Directory {
        name: String,
        path: String,
    },
    /// An image; `data_url` is made here from its bytes, only when they are an image of a type
    /// the app shows (never a URL from anywhere else).
    Image {
        name: String,
        data_url: Option<String>,
    },
    Other {
        name: String,
    },
}

/// One entry of a `user.message` event's `attachments`, for the transcript.
pub fn sent(value: &serde_json::Value) -> SentAttachment {
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let path = text("path").or_else(|| text("filePath")).unwrap_or_default();
    let name = text("displayName").unwrap_or_else(|| file_name(Path::new(&path)));
    match text("type").as_deref() {
        Some("file") => SentAttachment::File { name, path },
        Some("directory") => SentAttachment::Directory { name, path },
        Some("blob") => {
            let data_url = text("data").and_then(|data| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(&data).ok()?;
                let mime = sniff_image(&bytes)?;
                Some(format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes)))
            });
            SentAttachment::Image { name: if name.is_empty() { "image".into() } else { name }, data_url }
        }
        _ => SentAttachment::Other { name },
    }
}

/// A path the user chose (picker or drop) as an attachment: a folder, an image file (read as an
/// image, so it shows as a thumbnail), or any other file the model can read.
pub fn from_path(path: &Path) -> EngineResult<Attachment> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| unreadable(&shown, &e))?;
    let path = std::fs::canonicalize(path).map_err(|e| unreadable(&shown, &e))?;
    if metadata.is_dir() {
        std::fs::read_dir(&path).map_err(|e| unreadable(&shown, &e))?;
        return Ok(Attachment::Directory { path: path.display().to_string() });
    }
    if image_type_by_extension(&path).is_some() {
        if metadata.len() > MAX_IMAGE_BYTES as u64 {
            return Err(too_big(&file_name(&path), metadata.len() as usize));
        }
        let bytes = std::fs::read(&path).map_err(|e| unreadable(&shown, &e))?;
        return image_from_bytes(&file_name(&path), &bytes);
    }
    check_file(&path)?;
    Ok(Attachment::File { path: path.display().to_string() })
}

/// Image bytes the user gave (a pasted screenshot, a dropped picture) as an attachment. The type
/// comes from the bytes themselves, never from a name or a label.
pub fn image_from_bytes(name: &str, bytes: &[u8]) -> EngineResult<Attachment> {
    let Some(mime_type) = sniff_image(bytes) else {
        return Err(invalid(format!("{name} is not an image the model can take: use PNG, JPEG, GIF or WebP.")));
    };
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(too_big(name, bytes.len()));
    }
    Ok(Attachment::Image {
        name: name.to_owned(),
        mime_type: mime_type.to_owned(),
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// Check attachments again just before sending (a file may have gone since it was added) and
/// map them to the SDK's shape.
pub fn to_sdk(attachments: &[Attachment]) -> EngineResult<Vec<github_copilot_sdk::types::Attachment>> {
    use github_copilot_sdk::types::Attachment as Sdk;
    attachments
        .iter()
        .map(|attachment| {
            Ok(match attachment {
                Attachment::File { path } => {
                    check_file(Path::new(path))?;
                    Sdk::File { path: path.into(), display_name: Some(attachment.label()), line_range: None }
                }
                Attachment::Directory { path } => {
                    let metadata = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?;
                    if !metadata.is_dir() {
                        return Err(invalid(format!("{path} is no longer a folder.")));
                    }
                    Sdk::Directory { path: path.into(), display_name: Some(attachment.label()) }
                }
                Attachment::Image { name, data, .. } => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .map_err(|_| invalid(format!("{name} is not valid image data.")))?;
                    let Attachment::Image { mime_type, .. } = image_from_bytes(name, &bytes)? else {
                        unreachable!("image_from_bytes makes images")
                    };
                    Sdk::Blob { data: data.clone(), mime_type, display_name: Some(name.clone()) }
                }
            })
        })
        .collect()
}

/// A file the model can read: it exists, is a file, opens, and is text (or an image).
fn check_file(path: &Path) -> EngineResult<()> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| unreadable(&shown, &e))?;
    if !metadata.is_file() {
        return Err(invalid(format!("{shown} is not a file.")));
    }
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path).and_then(|f| f.take(8192).read_to_end(&mut head)).map_err(|e| unreadable(&shown, &e))?;
    if sniff_image(&head).is_none() && head.contains(&0) {
        return Err(invalid(format!(
            "{} is a binary file the model cannot read. Attach text files, folders or images (PNG, JPEG, GIF, WebP).",
            file_name(path)
        )));
    }
    Ok(())
}

fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

fn image_type_by_extension(path: &Path) -> Option<&'static str> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

fn invalid(message: String) -> EngineError {
    EngineError::InvalidRequest(message)
}

fn unreadable(shown: &str, error: &std::io::Error) -> EngineError {
    match error.kind() {
        std::io::ErrorKind::NotFound => invalid(format!("{shown} was not found. It may have been moved or deleted.")),
        std::io::ErrorKind::PermissionDenied => invalid(format!("{shown} cannot be read: permission denied.")),
        _ => invalid(format!("{shown} cannot be read: {error}.")),
    }
}

fn too_big(name: &str, bytes: usize) -> EngineError {
    invalid(format!("{name} is {:.1} MB; images can be at most {MAX_IMAGE_TEXT}.", bytes as f64 / (1024.0 * 1024.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn message(result: EngineResult<Attachment>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn paths_become_files_folders_or_images() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        let picture = dir.path().join("shot.png");
        std::fs::write(&picture, PNG).unwrap();
        assert!(matches!(from_path(&text).unwrap(), Attachment::File { path } if path.ends_with("notes.txt")));
        assert!(matches!(from_path(dir.path()).unwrap(), Attachment::Directory { .. }));
        let image = from_path(&picture).unwrap();
        assert!(
            matches!(&image, Attachment::Image { mime_type, name, .. } if mime_type == "image/png" && name == "shot.png")
        );
        assert_eq!(to_sdk(&[image]).unwrap().len(), 1);
    }

    #[test]
    fn bad_input_is_refused_in_words() {
        let dir = tempfile::tempdir().unwrap();
        assert!(message(from_path(&dir.path().join("gone.txt"))).contains("was not found"));
        let binary = dir.path().join("blob.bin");
        std::fs::write(&binary, b"\x7fELF\0\0\0").unwrap();
        assert!(message(from_path(&binary)).contains("binary file"));
        assert!(message(image_from_bytes("doc.pdf", b"%PDF-1.7")).contains("PNG, JPEG, GIF or WebP"));
        let mut big = PNG.to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        let too_big = message(image_from_bytes("huge.png", &big));
        assert!(too_big.contains("at most 5 MB"), "{too_big}");
        let fake = Attachment::Image { name: "x.png".into(), mime_type: "image/png".into(), data: "%%%".into() };
        assert!(to_sdk(&[fake]).unwrap_err().to_string().contains("not valid image data"));
    }

    #[test]
    fn only_chosen_paths_are_attached() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("a.txt");
        std::fs::write(&inside, "a").unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let chosen = ChosenPaths::default();
        chosen.allow(dir.path());
        assert!(chosen.check(&[Attachment::File { path: inside.display().to_string() }]).is_ok());
        let outside = Attachment::Directory { path: elsewhere.path().display().to_string() };
        assert!(chosen.check(&[outside]).unwrap_err().to_string().contains("outside the files and folders you chose"));
        // `..` does not climb out of a chosen folder.
        let sneaky = dir.path().join("..").join(elsewhere.path().file_name().unwrap());
        assert!(!chosen.permits(&sneaky));
    }
}
