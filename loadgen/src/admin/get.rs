//! The answer to the admin client's GET: its body, when its status is 200, with chunked
//! transfer coding undone.

use anyhow::{anyhow, bail, Context, Result};

/// The body of a complete HTTP/1.x response, if its status is 200.
pub fn body_of(raw: &[u8]) -> Result<String> {
    match answer_of(raw)? {
        (200, body) => Ok(body),
        (_, _) => {
            let status = std::str::from_utf8(raw)
                .ok()
                .and_then(|text| text.lines().next())
                .and_then(|line| line.split_once(' '))
                .map_or("", |(_, status)| status);
            bail!("HTTP status {status}")
        }
    }
}

/// The status code and body of a complete HTTP/1.x response, whatever its status.
pub fn answer_of(raw: &[u8]) -> Result<(u16, String)> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("not an HTTP response"))?;
    let head = std::str::from_utf8(&raw[..split]).context("HTTP header is not text")?;
    let mut body = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code = status.split(' ').nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/1.") {
        bail!("not an HTTP response");
    }
    let code: u16 = code.parse().context("not an HTTP status")?;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            let len: usize = value.parse().context("bad Content-Length")?;
            body = body
                .get(..len)
                .ok_or_else(|| anyhow!("response cut short"))?;
        }
    }
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    let body = String::from_utf8(body).context("the answer is not UTF-8")?;
    Ok((code, body))
}

/// Undoes chunked transfer coding (RFC 9112 §7.1).
fn dechunk(mut input: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = input
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow!("chunked body cut short"))?;
        let size_text = std::str::from_utf8(&input[..eol]).context("bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).context("bad chunk size")?;
        input = &input[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = input
            .get(..size)
            .ok_or_else(|| anyhow!("chunked body cut short"))?;
        out.extend_from_slice(chunk);
        input = input.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more";
        assert_eq!(body_of(plain).unwrap(), "hello");
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
        assert_eq!(body_of(chunked).unwrap(), "hello, world");
        let missing = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            body_of(missing).unwrap_err().to_string(),
            "HTTP status 404 Not Found"
        );
        assert!(body_of(b"garbage").is_err());
        let stalled = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 12\r\n\r\nstalled for ";
        assert_eq!(answer_of(stalled).unwrap(), (503, "stalled for ".into()));
    }
}
