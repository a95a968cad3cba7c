//! `Content-Type` from a file's extension, for the types a demo site has.

use std::path::Path;

pub fn of(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "txt" | "text" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types() {
        assert_eq!(of(Path::new("index.html")), "text/html; charset=utf-8");
        assert_eq!(of(Path::new("a/LOGO.PNG")), "image/png");
        assert_eq!(of(Path::new("data.bin")), "application/octet-stream");
        assert_eq!(of(Path::new("README")), "application/octet-stream");
    }
}
