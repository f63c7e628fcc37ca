//! Headless Chromium for the browser tests: load a page, let its scripts run, and read what a
//! person would see; plus a tampering proxy that stands between the browser and a node.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest a page load may take, scripts included.
const LOAD_TIMEOUT: Duration = Duration::from_secs(90);
/// Largest request head the proxy reads.
const REQUEST_HEAD_BYTES_MAX: usize = 16 * 1024;

/// The Chromium binary: `$CHROMIUM`, or `chromium` on the PATH (the Debian package's
/// `/usr/bin/chromium`). Panics with the fix when there is none: a browser test must fail,
/// not skip, on such a machine.
pub fn chromium() -> PathBuf {
    let found = match std::env::var_os("CHROMIUM") {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("chromium"))
                .find(|path| path.is_file())
        }),
    };
    match found {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "chromium is missing: the browser tests drive headless Chromium; run \
             scripts/setup.sh (it installs the Debian `chromium` package) or set CHROMIUM to \
             a Chromium binary"
        ),
    }
}

/// The browser's version line, e.g. `Chromium 156.0.8078.108 built on Debian ...`.
pub fn chromium_version() -> String {
    let output = Command::new(chromium())
        .arg("--version")
        .output()
        .expect("run chromium --version");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Loads `url` in a fresh headless Chromium profile, runs its scripts (network waits do not
/// count against the virtual time budget) and returns the DOM as it then is.
pub fn dump_dom(url: &str) -> String {
    let profile = tempfile::tempdir().expect("chromium profile dir");
    let out = profile.path().join("dom.html");
    let err = profile.path().join("stderr.txt");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        // A node serving HTTPS in a test has a self-signed certificate.
        .args(
            url.starts_with("https://")
                .then_some("--ignore-certificate-errors"),
        )
        .arg(url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("dom file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + LOAD_TIMEOUT;
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(status) => {
                let dom = std::fs::read_to_string(&out).unwrap_or_default();
                assert!(
                    status.success() && !dom.is_empty(),
                    "chromium failed on {url} ({status}): {}",
                    std::fs::read_to_string(&err).unwrap_or_default()
                );
                return dom;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish {url} within {LOAD_TIMEOUT:?}");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The text a person sees in `dom`: no scripts, styles, `hidden` elements or the contents
/// of closed `<details>` (their summary stays), tags removed, whitespace collapsed.
pub fn visible_text(dom: &str) -> String {
    let mut html = dom.to_string();
    for tag in ["script", "style", "noscript", "head"] {
        html = remove_elements(&html, tag, |_| true);
    }
    for tag in ["section", "p", "div", "ul", "ol", "li", "dl", "details"] {
        html = remove_elements(&html, tag, |open| has_attribute(open, "hidden"));
    }
    html = remove_closed_details_bodies(&html);
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_attribute(open_tag: &str, name: &str) -> bool {
    open_tag
        .trim_start_matches('<')
        .trim_end_matches('>')
        .split_whitespace()
        .skip(1)
        .any(|a| a == name || a.starts_with(&format!("{name}=")))
}

/// Removes each `<tag ...>...</tag>` whose opening tag satisfies `pick`, nesting included.
fn remove_elements(html: &str, tag: &str, pick: impl Fn(&str) -> bool) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = find_tag(rest, &open) {
        let Some(open_end) = rest[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        if !pick(&rest[start..open_end]) {
            out.push_str(&rest[..open_end]);
            rest = &rest[open_end..];
            continue;
        }
        out.push_str(&rest[..start]);
        let mut depth = 1;
        let mut at = open_end;
        while depth > 0 {
            let next_open = find_tag(&rest[at..], &open).map(|i| at + i);
            let Some(next_close) = rest[at..].find(&close).map(|i| at + i) else {
                at = rest.len();
                break;
            };
            match next_open {
                Some(o) if o < next_close => {
                    depth += 1;
                    at = o + open.len();
                }
                _ => {
                    depth -= 1;
                    at = next_close + close.len();
                }
            }
        }
        rest = &rest[at..];
    }
    out.push_str(rest);
    out
}

/// The next `<tag` that is that tag and not a longer name (`<p` is not `<pre`).
fn find_tag(html: &str, open: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = html[from..].find(open).map(|i| from + i) {
        let next = html[i + open.len()..].chars().next();
        if matches!(next, Some(c) if c == '>' || c.is_whitespace() || c == '/') {
            return Some(i);
        }
        from = i + open.len();
    }
    None
}

fn remove_closed_details_bodies(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = find_tag(rest, "<details") {
        let open_end = rest[start..]
            .find('>')
            .map_or(rest.len(), |i| start + i + 1);
        let Some(end) = rest[open_end..].find("</details>").map(|i| open_end + i) else {
            break;
        };
        out.push_str(&rest[..open_end]);
        let body = &rest[open_end..end];
        if has_attribute(&rest[start..open_end], "open") {
            out.push_str(body);
        } else if let (Some(s), Some(e)) = (body.find("<summary"), body.find("</summary>")) {
            out.push_str(&body[s..e + "</summary>".len()]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// How the proxy changes a node's JSON answer on its way to the browser.
pub type Tamper = fn(&mut Value);

/// A local HTTP server that forwards GET requests to a node and passes its answers through,
/// except that JSON answers to `/01/...` go through a [`Tamper`] first: a man in the middle
/// (or a lying node's data) as far as the browser can tell.
pub struct TamperProxy {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl TamperProxy {
    /// Listens on 127.0.0.1 at an ephemeral port, in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, tamper: Tamper) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr: SocketAddr = listener.local_addr().expect("proxy address");
        let upstream = upstream.to_string();
        let client = reqwest::Client::new();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (upstream, client) = (upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let _ = forward(stream, &upstream, &client, tamper).await;
                });
            }
        });
        Self {
            url: format!("http://{addr}"),
            task,
        }
    }
}

impl Drop for TamperProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    mut stream: TcpStream,
    upstream: &str,
    client: &reqwest::Client,
    tamper: Tamper,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > REQUEST_HEAD_BYTES_MAX {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    let accept = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("accept"))
        .map(|(_, value)| value.trim().to_string())
        .unwrap_or_else(|| "*/*".into());
    let (status, content_type, mut body) = match client
        .get(format!("{upstream}{path}"))
        .header("accept", &accept)
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_string();
            (
                status,
                content_type,
                response.bytes().await.unwrap_or_default().to_vec(),
            )
        }
        Err(_) => (502, "text/plain".to_string(), b"upstream down".to_vec()),
    };
    if path.starts_with("/01/") && content_type.starts_with("application/json") {
        if let Ok(mut answer) = serde_json::from_slice::<Value>(&body) {
            tamper(&mut answer);
            body = serde_json::to_vec(&answer).expect("JSON");
        }
    }
    let reply = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}
