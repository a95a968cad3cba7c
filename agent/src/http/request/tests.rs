use super::*;

fn get(path: &str) -> Request {
    Request { method: Method::Get, path: path.as_bytes().to_vec() }
}

#[test]
fn finds_the_end_of_the_head() {
    assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\nbody", 0), Some(18));
    assert_eq!(head_end(b"GET / HTTP/1.0\n\n", 0), Some(16));
    assert_eq!(head_end(b"GET / HTTP/1.0\r\nHost: a\r\n", 0), None);
    assert_eq!(head_end(b"GET / HTTP/1.0\r\nHost: a\r\n\r\n", 25), Some(27), "the end across what was searched");
    assert_eq!(head_end(b"GET", 99), None, "more searched than there is: no panic");
}

#[test]
fn reads_get_and_head_in_both_versions() {
    assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8\r\n\r\n"), Ok(get("/")));
    assert_eq!(parse(b"GET /a/b.html?x=1#top HTTP/1.0\r\n\r\n"), Ok(get("/a/b.html")));
    assert_eq!(parse(b"\r\nGET /x HTTP/1.0\n\n"), Ok(get("/x")), "bare LF and a leading blank line");
    let head = parse(b"HEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    assert_eq!(head.method, Method::Head);
}

#[test]
fn decodes_percent_escapes_and_absolute_targets() {
    assert_eq!(parse(b"GET /a%20b/%2e%2E HTTP/1.1\r\n\r\n"), Ok(get("/a b/..")));
    assert_eq!(parse(b"GET http://192.0.2.10:80/x/y HTTP/1.1\r\n\r\n"), Ok(get("/x/y")));
    assert_eq!(parse(b"GET http://192.0.2.10 HTTP/1.1\r\n\r\n"), Ok(get("/")));
}

#[test]
fn other_methods_are_not_allowed() {
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "BREW"] {
        let head = format!("{m} / HTTP/1.1\r\n\r\n");
        assert_eq!(parse(head.as_bytes()).map(|r| r.method), Ok(Method::Other), "{m}");
    }
}

#[test]
fn garbage_is_a_bad_request() {
    let bad: &[&[u8]] = &[
        b"\r\n\r\n",
        b"hello\r\n\r\n",
        b"GET /\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\n\r\n",
        b"GET / FTP/1.0\r\n\r\n",
        b"GET / HTTP/one\r\n\r\n",
        b"GET relative HTTP/1.1\r\n\r\n",
        b"GET /%zz HTTP/1.1\r\n\r\n",
        b"GET /%4 HTTP/1.1\r\n\r\n",
        b"GET /a%00b HTTP/1.1\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        // Regressions: `u8::from_str_radix` took the sign in `%+1` for a digit (a path of "/\x01").
        b"GET /%+1 HTTP/1.1\r\n\r\n",
        b"GET /%+f HTTP/1.1\r\n\r\n",
        b"GET /%-1 HTTP/1.1\r\n\r\n",
    ];
    for head in bad {
        assert_eq!(parse(head), Err(Status::BadRequest), "{}", String::from_utf8_lossy(head));
    }
}

#[test]
fn other_versions_are_not_supported() {
    assert_eq!(parse(b"GET / HTTP/2.0\r\n\r\n"), Err(Status::VersionNotSupported));
    assert_eq!(parse(b"GET / HTTP/0.9\r\n\r\n"), Err(Status::VersionNotSupported));
}
