//! The servers of `output.nats.url`, read once for `config check` and for both connections of
//! the NATS sink: the publisher (`sink::nats::conn`) and async-nats's (`sink::nats::connect`),
//! which would read a list as one server and never send a URL's user and password itself. No
//! message here repeats the URL's text: a password is in it, and a ',' in a password that was
//! not written %2C splits it where no rule can tell.

/// A server to try, from `output.nats.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `tls://`: TLS even when the server does not ask for it.
    pub(crate) tls: bool,
    pub(crate) auth: Option<Auth>,
}

/// What authorizes the client, from the URL: `user:password@`, or `token@`.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    User { user: String, pass: String },
    Token(String),
}

/// Without the secret, should an endpoint ever be logged whole.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::User { user, .. } => write!(f, "User {{ user: {user:?}, pass: *** }}"),
            Auth::Token(_) => write!(f, "Token(***)"),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl Endpoint {
    pub fn auth(&self) -> Option<&Auth> {
        self.auth.as_ref()
    }

    /// The server as async-nats takes it: scheme, host and port. async-nats reads `url` as one
    /// server, commas and all, so the control connection is given each as parsed here.
    pub fn server_url(&self) -> String {
        let scheme = if self.tls { "tls" } else { "nats" };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The servers of `url`: comma-separated `[nats|tls://][user[:pass]@]host[:port]`. An error
/// names a server by its place in the list, never by its text.
pub fn endpoints(url: &str) -> Result<Vec<Endpoint>, String> {
    let mut out: Vec<Endpoint> = Vec::new();
    let pieces: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    for (at, one) in pieces.iter().enumerate() {
        let nth = at + 1;
        let (tls, rest) = match one.split_once("://") {
            Some(("nats", rest)) => (false, rest),
            Some(("tls", rest)) => (true, rest),
            Some(_) => return Err(format!("server {nth}: the scheme is not nats:// or tls://")),
            None => (false, *one),
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((auth, hostport)) => (Some(auth), hostport),
            None => (None, rest),
        };
        // "nats://u:pa,ss@host" is read as "nats://u:pa" and "ss@host": a server that names a
        // user or token without a scheme, after one with none, is far likelier such a password.
        let schemeless = !one.contains("://");
        if auth.is_some() && schemeless && at > 0 && !pieces[at - 1].contains('@') {
            return Err(format!(
                "server {nth} has a user or token and no scheme, after a server with neither: \
                 a ',' in a password is written %2C (else give server {nth} its nats://)"
            ));
        }
        let auth = match auth {
            Some(a) => Some(auth_of(a).ok_or_else(|| {
                format!(
                    "server {nth}: a '%' in the user, password or token is not followed by two \
                     hex digits (write '%' as %25), or they do not decode to UTF-8"
                )
            })?),
            None => None,
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') => (
                h,
                p.parse().map_err(|_| {
                    format!(
                        "server {nth}: what follows the last ':' is not a port number (a ',' \
                         in a password is written %2C)"
                    )
                })?,
            ),
            _ => (hostport, 4222),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("server {nth}: no host"));
        }
        out.push(Endpoint {
            host: host.to_owned(),
            port,
            tls,
            auth,
        });
    }
    if out.is_empty() {
        return Err("no server".into());
    }
    // async-nats, which makes the control connection, tells every server the same user or
    // token: so does the publisher, whether it was given once or with each server.
    let mut given = out.iter().filter_map(|ep| ep.auth.clone());
    if let Some(auth) = given.next() {
        if given.any(|other| other != auth) {
            let why = "the servers have different users, passwords or tokens; one is used for \
                       all: give it once, or the same with each";
            return Err(why.into());
        }
        for ep in &mut out {
            ep.auth = Some(auth.clone());
        }
    }
    Ok(out)
}

/// The user and password, or the token, of `user:pass` or `token`, percent-decoded.
fn auth_of(userinfo: &str) -> Option<Auth> {
    Some(match userinfo.split_once(':') {
        Some((user, pass)) => Auth::User {
            user: percent_decoded(user)?,
            pass: percent_decoded(pass)?,
        },
        None => Auth::Token(percent_decoded(userinfo)?),
    })
}

/// `text` with each `%XX` as the byte it stands for, as in any URL (and as nats.go and the
/// `nats` CLI read it): a password can hold the ',' that separates servers, or a '%', only so
/// written. None for a '%' not followed by two hex digits, or bytes that are not UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `url` as messages show it, each password or token as `***`: the log and the errors name the
/// servers, and a log is read by more people than the config.
pub fn shown(url: &str) -> String {
    // A piece with no '@' followed by one with an '@' and no scheme is, as [`endpoints`] reads
    // it, likelier a password with a ',' in it: the two are hidden as one.
    let mut servers: Vec<String> = Vec::new();
    let mut open = false;
    for piece in url.split(',') {
        match servers.last_mut() {
            Some(last) if open && piece.contains('@') && !piece.contains("://") => {
                last.push(',');
                last.push_str(piece);
                open = false;
            }
            _ => {
                servers.push(piece.to_owned());
                open = !piece.contains('@');
            }
        }
    }
    servers
        .iter()
        .map(|s| shown_one(s))
        .collect::<Vec<_>>()
        .join(",")
}

fn shown_one(one: &str) -> String {
    let Some((auth, hostport)) = one.rsplit_once('@') else {
        return one.to_owned();
    };
    // A scheme is letters; what has a ':' before the "://" is a user and password.
    let (scheme, auth) = match auth.split_once("://") {
        Some((scheme, auth)) if scheme.trim().bytes().all(|b| b.is_ascii_alphanumeric()) => {
            (&one[..scheme.len() + 3], auth)
        }
        _ => ("", auth),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}{user}:***@{hostport}"),
        None => format!("{scheme}***@{hostport}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_servers() {
        let eps = endpoints("nats://127.0.0.1:4333, tls://u:p@nats.example ,host2").unwrap();
        assert_eq!(eps.len(), 3);
        assert_eq!(eps[0].to_string(), "127.0.0.1:4333");
        assert!(!eps[0].tls && eps[1].tls);
        let user = Auth::User {
            user: "u".into(),
            pass: "p".into(),
        };
        assert_eq!(eps[1].auth(), Some(&user));
        // Given once, it is every server's.
        assert_eq!(eps[0].auth(), Some(&user));
        assert_eq!(
            format!("{:?}", eps[0].auth()),
            r#"Some(User { user: "u", pass: *** })"#
        );
        assert_eq!(eps[1].port, 4222);
        assert_eq!(eps[2].host, "host2");
        assert_eq!(eps[0].server_url(), "nats://127.0.0.1:4333");
        assert_eq!(eps[1].server_url(), "tls://nats.example:4222");
        let v6 = endpoints("nats://[::1]:4333").unwrap();
        assert_eq!(v6[0].server_url(), "nats://[::1]:4333");
        assert!(endpoints("http://x").is_err());
        assert!(endpoints("nats://x:port").is_err());
        assert!(endpoints(" , ").is_err());
        let token = endpoints("nats://s3cret@a,nats://s3cret@b").unwrap();
        assert_eq!(token[1].auth(), Some(&Auth::Token("s3cret".into())));
        assert!(endpoints("nats://u:p@a,nats://u:q@b").is_err());
    }

    #[test]
    fn user_password_and_token_are_percent_decoded() {
        let eps = endpoints("nats://z%74el:p%40ss%3Aw%2Frd%2C%25%C3%A9@a").unwrap();
        let user = Auth::User {
            user: "ztel".into(),
            pass: "p@ss:w/rd,%\u{e9}".into(),
        };
        assert_eq!(eps[0].auth(), Some(&user));
        // Written as they are, the characters that do not end a part are taken too.
        let eps = endpoints("nats://ztel:p@ss:w/rd@a").unwrap();
        let user = Auth::User {
            user: "ztel".into(),
            pass: "p@ss:w/rd".into(),
        };
        assert_eq!(eps[0].auth(), Some(&user));
        let eps = endpoints("tls://t%2Ck@a").unwrap();
        assert_eq!(eps[0].auth(), Some(&Auth::Token("t,k".into())));
        for url in [
            "nats://u:s3cret%@a",
            "nats://u:s3cret%4@a",
            "nats://u:s3cret%zz@a",
            "nats://u:s3cret%+1@a",
            "nats://u:s3cret%ff@a",
        ] {
            let e = endpoints(url).expect_err(url);
            assert!(
                !e.contains("s3cret") && e.starts_with("server 1: a '%'"),
                "{e}"
            );
        }
    }

    #[test]
    fn messages_show_no_password_nor_token() {
        assert_eq!(
            shown("nats://u:s3cret@a:4222, tls://t0ken@b,c:4222"),
            "nats://u:***@a:4222, tls://***@b,c:4222"
        );
        assert_eq!(shown("u:p@w://d@a"), "u:***@a");
        assert_eq!(shown("nats://u:p@ss@a"), "nats://u:***@a");
        let refused = [
            "nats://u:s3cret@a:port",
            "http://u:s3cret@a",
            "nats://u:s3cret@",
        ];
        for url in refused {
            let e = endpoints(url).expect_err(url);
            assert!(!e.contains("s3cret") && e.starts_with("server 1"), "{e}");
        }
    }

    /// Regression: a ',' written as it is in a password split the URL before the '@', so the
    /// start's error and every later message printed the password's first part.
    #[test]
    fn a_comma_in_a_password_is_refused_and_hidden() {
        for url in [
            "nats://ztel:Xq7,Zk9@h:4222",
            "nats://ztel:1234,Zk9@h",
            "ztel:Qw3,Zk9@h",
        ] {
            let e = endpoints(url).expect_err(url);
            assert!(e.contains("%2C"), "{e}");
            for part in ["Xq7", "1234", "Qw3", "Zk9"] {
                assert!(!e.contains(part), "{part} in {e}");
            }
        }
        assert_eq!(
            shown("nats://ztel:Xq7,Zk9@h:4222"),
            "nats://ztel:***@h:4222"
        );
        assert_eq!(shown("nats://ztel:1234,Zk9@h"), "nats://ztel:***@h");
        assert_eq!(
            shown("nats://a:4222,nats://u:p@b"),
            "nats://a:4222,nats://u:***@b"
        );
        // A list whose servers give no user is read as before.
        assert_eq!(endpoints("nats://a:4222,b").unwrap().len(), 2);
    }
}
