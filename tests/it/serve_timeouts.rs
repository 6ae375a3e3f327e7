//! `policy serve`'s connection deadlines over real sockets: a keep-alive connection outlives the header
//! timeout between requests, a connection that never sends a request does not, the idle timeout closes a
//! quiet keep-alive connection, and `--max-connections` holds new clients back until a connection closes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::serve_support::{Response, Server, parse};

/// Sends one keep-alive `GET` on `stream` and reads exactly its response (by `Content-Length`).
fn keep_alive_get(stream: &mut TcpStream, path: &str) -> std::io::Result<Response> {
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if reader.read_until(b'\n', &mut head)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a response"));
        }
    }
    let length = parse(&head).header("content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    head.extend_from_slice(&body);
    Ok(parse(&head))
}

/// Whether the server closes `stream` within `within` (reads until end of file or the time is up).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// That the server closes `stream` about a second from now (a 1-second deadline): not before 0.8 s, within 4 s.
fn assert_closed_after_about_a_second(stream: &mut TcpStream, what: &str) {
    let started = Instant::now();
    assert!(closed_within(stream, Duration::from_secs(8)), "{what}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(800) && waited < Duration::from_secs(4), "closed after {waited:?}");
}

#[test]
fn a_keep_alive_connection_outlives_the_header_timeout_between_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&["--header-timeout", "1"], dir.path());
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(keep_alive_get(&mut stream, "/healthz").unwrap().status, 200);
    // Idle for more than twice the header timeout: hyper's own header timer would have closed it by now.
    std::thread::sleep(Duration::from_millis(2500));
    let again = keep_alive_get(&mut stream, "/healthz").expect("the idle connection is still open");
    assert_eq!(again.status, 200);
}

#[test]
fn a_connection_that_sends_no_request_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&["--header-timeout", "1"], dir.path());
    let mut silent = TcpStream::connect(&server.addr).unwrap();
    assert_closed_after_about_a_second(&mut silent, "a silent connection is not kept");
}

#[test]
fn the_idle_timeout_closes_a_quiet_keep_alive_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&["--header-timeout", "5", "--idle-timeout", "1"], dir.path());
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(keep_alive_get(&mut stream, "/healthz").unwrap().status, 200);
    assert_closed_after_about_a_second(&mut stream, "the idle connection is closed");
}

#[test]
fn max_connections_holds_new_clients_until_one_closes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&["--max-connections", "2", "--header-timeout", "30"], dir.path());
    let mut first = TcpStream::connect(&server.addr).unwrap();
    let mut second = TcpStream::connect(&server.addr).unwrap();
    for stream in [&mut first, &mut second] {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(keep_alive_get(stream, "/healthz").unwrap().status, 200);
    }
    // The third connects (the kernel queues it) but is not served while two are open.
    let mut third = TcpStream::connect(&server.addr).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    assert!(keep_alive_get(&mut third, "/healthz").is_err(), "served beyond --max-connections");
    drop(first);
    third.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut rest = Vec::new();
    // Its request was already sent: the answer arrives once the first connection has closed.
    let mut reader = BufReader::new(third.try_clone().unwrap());
    reader.read_until(b'\n', &mut rest).expect("answered after a connection closed");
    assert!(String::from_utf8_lossy(&rest).starts_with("HTTP/1.1 200"), "{rest:?}");
}
