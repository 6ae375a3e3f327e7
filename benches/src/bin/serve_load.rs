//! A constant-rate HTTP/1.1 load generator for `policy serve` (scripts/serve-load.sh, docs/performance.md).
//!
//! Why not `hey` or `wrk`: both are closed-loop (a worker sends its next request only when the last one is
//! answered), so a slow answer delays the requests behind it and their wait is never counted (coordinated
//! omission), and `hey` spends more CPU per request than the server it measures. This generator is
//! open-loop: request `i` is due at `start + i / rate`, whatever happened before, and its latency is counted
//! from when it was due, so queueing in the server (or in the generator's backlog) shows up in the
//! percentiles (as `wrk2` corrects it). It is one thread over non-blocking keep-alive connections that
//! sleeps in `ppoll` until an answer arrives or the next request is due (timer slack set to 1 ns, so it
//! wakes within microseconds), so it leaves the server the CPU it does not use itself. `SPIN=1` spins
//! between events instead: exact to a microsecond, at the price of one busy core.
//!
//! Standard library only (`ppoll` and `prctl` declared by hand, Linux), so the script builds it with
//! `rustc -O` in seconds; it is also a binary of `vigil-bench`.
//!
//! ```text
//! serve_load ADDR PATH BODIES RATE SECONDS [CONNECTIONS] [WARMUP_SECONDS]
//! ```
//! `BODIES` is a file of request bodies, one per line, sent in turn (e.g. 1,000 callers).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

unsafe extern "C" {
    fn ppoll(fds: *mut PollFd, nfds: u64, timeout: *const Timespec, sigmask: *const u8) -> i32;
    fn prctl(option: i32, ...) -> i32;
}

const POLLIN: i16 = 1;
const POLLOUT: i16 = 4;
const PR_SET_TIMERSLACK: i32 = 29;

/// Sleeps until one of the busy connections can be read (or written, while a request is unsent), or until
/// `wake`; marks the readable ones.
fn wait(conns: &mut [Conn], wake: Instant) {
    let mut fds: Vec<PollFd> = Vec::with_capacity(conns.len());
    let mut which = Vec::with_capacity(conns.len());
    for (i, c) in conns.iter().enumerate().filter(|(_, c)| c.busy.is_some()) {
        let events = if c.unsent.is_empty() { POLLIN } else { POLLIN | POLLOUT };
        fds.push(PollFd { fd: c.stream.as_raw_fd(), events, revents: 0 });
        which.push(i);
    }
    let left = wake.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return;
    }
    let timeout = Timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) };
    // SAFETY: `fds` is a live array of `fds.len()` pollfd records; the timeout outlives the call.
    let n = unsafe { ppoll(fds.as_mut_ptr(), fds.len() as u64, &timeout, std::ptr::null()) };
    if n > 0 {
        for (fd, &i) in fds.iter().zip(&which) {
            conns[i].ready |= fd.revents != 0;
        }
    }
}

struct Conn {
    stream: TcpStream,
    /// The request being answered: when it was due, when it was sent, and bytes of the request still to
    /// write.
    busy: Option<(Instant, Instant)>,
    unsent: Vec<u8>,
    read: Vec<u8>,
    /// `ppoll` said there is something to read (always true when spinning).
    ready: bool,
}

/// Microsecond latencies of the measured requests.
#[derive(Default)]
struct Samples {
    corrected: Vec<u32>,
    service: Vec<u32>,
    errors: usize,
    statuses: std::collections::BTreeMap<u16, usize>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: serve_load ADDR PATH BODIES RATE SECONDS [CONNECTIONS] [WARMUP_SECONDS]");
        std::process::exit(2);
    }
    let (addr, path) = (&args[1], &args[2]);
    let bodies = std::fs::read_to_string(&args[3]).unwrap_or_else(|e| fail(&format!("{}: {e}", args[3])));
    let number = |i: usize, default: f64| args.get(i).map_or(default, |s| s.parse().unwrap_or_else(|_| fail(s)));
    let (rate, secs) = (number(4, 0.0), number(5, 0.0));
    let (connections, warmup) = (number(6, 16.0) as usize, number(7, 1.0));
    if rate <= 0.0 || secs <= 0.0 || connections == 0 {
        fail("RATE, SECONDS and CONNECTIONS must be above 0");
    }
    let requests: Vec<Vec<u8>> = bodies
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|body| {
            format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .collect();
    if requests.is_empty() {
        fail("no request body in the file");
    }
    let mut conns: Vec<Conn> = (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(addr).unwrap_or_else(|e| fail(&format!("{addr}: {e}")));
            stream
                .set_nodelay(true)
                .and_then(|()| stream.set_nonblocking(true))
                .unwrap_or_else(|e| fail(&e.to_string()));
            Conn { stream, busy: None, unsent: Vec::new(), read: Vec::with_capacity(4096), ready: false }
        })
        .collect();
    let spin = std::env::var_os("SPIN").is_some_and(|v| v != "0" && !v.is_empty());
    if !spin {
        // The kernel may otherwise delay a sleeping thread's wake-up by its default 50 µs of timer slack.
        // SAFETY: PR_SET_TIMERSLACK takes one unsigned long and changes only this thread's timer slack.
        unsafe { prctl(PR_SET_TIMERSLACK, 1u64, 0u64, 0u64, 0u64) };
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(10);
    let measure_from = start + Duration::from_secs_f64(warmup);
    let end = measure_from + Duration::from_secs_f64(secs);
    let mut samples = Samples::default();
    // Due but not yet sent (every connection busy): they wait here, and the wait counts.
    let mut backlog: std::collections::VecDeque<Instant> = std::collections::VecDeque::new();
    let (mut issued, mut answered_in_window) = (0u64, 0u64);
    let mut max_backlog = 0;
    loop {
        let now = Instant::now();
        let mut next = start + interval.mul_f64(issued as f64);
        while next <= now && next < end {
            backlog.push_back(next);
            issued += 1;
            next = start + interval.mul_f64(issued as f64);
        }
        max_backlog = max_backlog.max(backlog.len());
        let in_flight = conns.iter().filter(|c| c.busy.is_some()).count();
        if next >= end && backlog.is_empty() && in_flight == 0 {
            break;
        }
        if now > end + Duration::from_secs(10) {
            eprintln!("gave up waiting for {in_flight} answers");
            samples.errors += in_flight;
            break;
        }
        // Connections are taken in turn, as a client pool spreads its requests, not always the first free
        // one (which would leave the rest idle for the whole run).
        let first = (issued as usize) % conns.len();
        for i in (first..conns.len()).chain(0..first) {
            let conn = &mut conns[i];
            if conn.busy.is_none()
                && let Some(due) = backlog.pop_front()
            {
                let sent = Instant::now();
                conn.busy = Some((due, sent));
                conn.unsent.clear();
                conn.unsent.extend_from_slice(&requests[(issued as usize + i) % requests.len()]);
            }
            if !conn.unsent.is_empty() {
                match conn.stream.write(&conn.unsent) {
                    Ok(n) => _ = conn.unsent.drain(..n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => fail(&format!("write: {e}")),
                }
            }
            let Some((due, sent)) = conn.busy else { continue };
            if !spin && !std::mem::take(&mut conn.ready) {
                continue;
            }
            let mut chunk = [0u8; 16 << 10];
            match conn.stream.read(&mut chunk) {
                Ok(0) => fail("the server closed a connection"),
                Ok(n) => conn.read.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => fail(&format!("read: {e}")),
            }
            let Some((status, len)) = complete(&conn.read) else { continue };
            let done = Instant::now();
            conn.read.drain(..len);
            conn.busy = None;
            if due >= measure_from && due < end {
                answered_in_window += 1;
                samples.corrected.push(micros(done - due));
                samples.service.push(micros(done - sent));
                *samples.statuses.entry(status).or_default() += 1;
                if status != 200 {
                    samples.errors += 1;
                }
            }
        }
        if spin {
            std::hint::spin_loop();
        } else {
            // Until an answer or the next due request (after the last one, check in now and then).
            let wake = if next < end { next } else { Instant::now() + Duration::from_millis(10) };
            wait(&mut conns, wake);
        }
    }
    report(&samples, rate, secs, connections, answered_in_window, max_backlog);
}

/// Status and length of the first whole response in `buf`, if it has arrived (`Content-Length` bodies).
fn complete(buf: &[u8]) -> Option<(u16, usize)> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    (buf.len() >= head_end + length).then_some((status, head_end + length))
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn report(s: &Samples, rate: f64, secs: f64, connections: usize, answered: u64, max_backlog: usize) {
    let pct = |v: &[u32], p: f64| -> String {
        if v.is_empty() {
            return "-".into();
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        format!("{:.3}", f64::from(v[i]) / 1000.0)
    };
    let (mut corrected, mut service) = (s.corrected.clone(), s.service.clone());
    corrected.sort_unstable();
    service.sort_unstable();
    println!(
        "offered {rate:.0}/s for {secs:.0}s on {connections} connections: {answered} answered ({:.0}/s), {} not 200 {:?}, backlog at most {max_backlog}",
        answered as f64 / secs,
        s.errors,
        s.statuses
    );
    // One machine-readable line for scripts/serve-load.sh (milliseconds, from due).
    println!(
        "RESULT achieved={:.0} errors={} p50={} p90={} p99={} p999={} max={}",
        answered as f64 / secs,
        s.errors,
        pct(&corrected, 0.5),
        pct(&corrected, 0.9),
        pct(&corrected, 0.99),
        pct(&corrected, 0.999),
        pct(&corrected, 1.0)
    );
    println!("latency (ms)         p50      p90      p99    p99.9      max");
    for (name, v) in [("from due (corrected)", &corrected), ("from sent (service)", &service)] {
        println!(
            "{name:<20} {:>7} {:>8} {:>8} {:>8} {:>8}",
            pct(v, 0.5),
            pct(v, 0.9),
            pct(v, 0.99),
            pct(v, 0.999),
            pct(v, 1.0)
        );
    }
}

fn fail(message: &str) -> ! {
    eprintln!("serve_load: {message}");
    std::process::exit(2)
}
