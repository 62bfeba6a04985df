//! What the `cef` and `leef` targets' reference readers share, one character at a time: the
//! header fields, each closed by a `|` that no backslash escapes, and space-separated pairs.

use wire::reason::Reason;

/// The first `count` header fields of `chars`, unescaped (`\|` and `\\`; any other backslash
/// stays), and where the rest starts.
pub fn header(
    chars: &[char],
    count: usize,
    malformed: Reason,
) -> Result<(Vec<String>, usize), Reason> {
    let mut header = Vec::new();
    let mut field = String::new();
    let mut i = 0;
    while header.len() < count {
        match (chars.get(i), chars.get(i + 1)) {
            (None, _) => return Err(malformed),
            (Some('\\'), Some(&next)) => {
                if next != '|' && next != '\\' {
                    field.push('\\');
                }
                field.push(next);
                i += 2;
            }
            (Some('|'), _) => {
                header.push(std::mem::take(&mut field));
                i += 1;
            }
            (Some(&c), _) => {
                field.push(c);
                i += 1;
            }
        }
    }
    Ok((header, i))
}

/// The positions of the `|`s no backslash escapes in `chars[from..]` before its first `=`
/// (none when it has no `=`).
pub fn pipes_before_eq(chars: &[char], from: usize) -> Vec<usize> {
    let Some(eq) = chars[from..]
        .iter()
        .position(|&c| c == '=')
        .map(|p| from + p)
    else {
        return Vec::new();
    };
    let (mut pipes, mut j) = (Vec::new(), from);
    while j < eq {
        match chars[j] {
            '\\' => j += 2,
            '|' => {
                pipes.push(j);
                j += 1;
            }
            _ => j += 1,
        }
    }
    pipes
}

/// [`header`]'s `count` fields, where field `wide` also takes the `|`s that come before the
/// first `=` after them (NSS escapes none in the values it writes there): the fields, unescaped,
/// and where the rest starts.
pub fn widened(
    chars: &[char],
    count: usize,
    wide: usize,
    malformed: Reason,
) -> Result<(Vec<String>, usize), Reason> {
    let (fields, end) = header(chars, count, malformed)?;
    let pipes = pipes_before_eq(chars, end);
    let Some(&last) = pipes.last() else {
        return Ok((fields, end));
    };
    let (mut fields, rest) = header(&chars[..=last], count + pipes.len(), malformed)?;
    let joined = fields[wide..=wide + pipes.len()].join("|");
    fields.splice(wide..=wide + pipes.len(), [joined]);
    Ok((fields, rest))
}

/// A character a CEF or LEEF key can hold.
pub fn is_key(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'
}

/// CEF's keys whose values a client writes, as `wire::format::cef` lists them.
fn client_written(key: &[char]) -> bool {
    let key: String = key.iter().collect();
    let custom = |prefix: &str| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    [
        "requestClientApplication",
        "request",
        "requestContext",
        "fname",
        "filePath",
    ]
    .contains(&key.as_str())
        || custom("cs")
        || custom("flexString")
        || custom("deviceCustomString")
}

/// Space-separated pairs: a key follows a space or starts the text and ends at `=`, and is one
/// when its value does not open with a quote, `leef` allows that, or the key before it is not
/// one a client writes; its value runs to the space before the next key, without trailing
/// spaces. In LEEF a key may be runs of key characters with a `:` between each two.
pub fn spaced(
    text: &[char],
    leef: bool,
    unescape: &dyn Fn(&[char]) -> String,
) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for (eq, &c) in text.iter().enumerate() {
        if c != '=' {
            continue;
        }
        let mut start = eq;
        while start > 0 && is_key(text[start - 1]) {
            start -= 1;
        }
        while leef && start < eq && start >= 2 && text[start - 1] == ':' && is_key(text[start - 2])
        {
            start -= 1;
            while start > 0 && is_key(text[start - 1]) {
                start -= 1;
            }
        }
        // A quote after the `=` makes no key inside a value a client writes.
        let quoted = text.get(eq + 1) == Some(&'"');
        let in_client_text = keys
            .last()
            .is_some_and(|&(k, e): &(usize, usize)| client_written(&text[k..e]));
        if start < eq
            && (start == 0 || text[start - 1] == ' ')
            && (!quoted || leef || !in_client_text)
        {
            keys.push((start, eq));
        }
    }
    let mut pairs = Vec::new();
    for (n, &(start, eq)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(text.len(), |&(next, _)| next - 1);
        let mut value = text[eq + 1..end].to_vec();
        while value.last() == Some(&' ') {
            value.pop();
        }
        pairs.push((text[start..eq].iter().collect(), unescape(&value)));
    }
    pairs
}
