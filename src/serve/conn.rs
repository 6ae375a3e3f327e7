//! Per-connection deadlines: how long a client may take to send its headers, to take its response, and to
//! stay idle between requests on a keep-alive connection.
//!
//! hyper's own `header_read_timeout` cannot tell these apart: it starts as soon as a response is written, so
//! it also closes idle keep-alive connections after a few seconds. A client pool (Envoy, the Kubernetes API
//! server, a load generator) that reuses such a connection races the close and sees its request fail. So the
//! server turns hyper's timer off and [`Watched`] keeps the clock instead, from what it sees of the
//! connection:
//!
//! - **head**: from accept, and from the first byte of each later request, until hyper hands the request to
//!   the service: `--header-timeout` (slow loris; on HTTPS the handshake counts too);
//! - **busy**: while the service decides, no limit here (the body has its own `--body-timeout`, evaluation
//!   always terminates);
//! - **responding**: from the decision until hyper has flushed the response: `--body-timeout` (a client that
//!   does not read its answer);
//! - **idle**: from then until the next request's first byte: `--idle-timeout`.
//!
//! An expired deadline ends the connection with a `TimedOut` error; a request being decided is never cut.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

const HEAD: u8 = 0;
const BUSY: u8 = 1;
const RESPONDING: u8 = 2;
const IDLE: u8 = 3;

/// The deadlines of one connection.
#[derive(Clone, Copy, Debug)]
pub(super) struct Deadlines {
    pub header: Duration,
    pub respond: Duration,
    pub idle: Duration,
}

/// Where a connection is in its request cycle; the service moves it to busy and responding, the stream
/// sees the rest. Shared by the two halves of one connection's task.
#[derive(Clone, Default)]
pub(super) struct Phase(Arc<AtomicU8>);

impl Phase {
    /// The service has the request: its headers are in.
    pub fn busy(&self) {
        self.0.store(BUSY, Ordering::Relaxed);
    }

    /// The service has answered; hyper writes the response next.
    pub fn responding(&self) {
        self.0.store(RESPONDING, Ordering::Relaxed);
    }

    fn get(&self) -> u8 {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, phase: u8) {
        self.0.store(phase, Ordering::Relaxed);
    }
}

/// A stream that ends the connection when the client overstays the deadline of its phase.
pub(super) struct Watched<S> {
    inner: S,
    phase: Phase,
    deadlines: Deadlines,
    /// The phase whose deadline `timer` was last set for, and when that deadline is.
    armed: u8,
    deadline: Instant,
    /// Reset only when a phase starts whose deadline is earlier than the armed one; otherwise it is moved
    /// on when it fires early, so a request costs at most one timer reset.
    timer: Pin<Box<Sleep>>,
}

impl<S> Watched<S> {
    /// A fresh connection: in the head phase from now.
    pub fn new(inner: S, phase: Phase, deadlines: Deadlines) -> Watched<S> {
        let deadline = Instant::now() + deadlines.header;
        phase.set(HEAD);
        Watched { inner, phase, deadlines, armed: HEAD, deadline, timer: Box::pin(tokio::time::sleep_until(deadline)) }
    }

    fn limit(&self, phase: u8) -> Option<Duration> {
        match phase {
            HEAD => Some(self.deadlines.header),
            RESPONDING => Some(self.deadlines.respond),
            IDLE => Some(self.deadlines.idle),
            _ => None,
        }
    }

    /// Notes a phase change seen by the stream or made by the service, starting its clock.
    fn observe(&mut self) {
        let phase = self.phase.get();
        if phase == self.armed {
            return;
        }
        self.armed = phase;
        let Some(limit) = self.limit(phase) else { return };
        self.deadline = Instant::now() + limit;
        if self.deadline < self.timer.deadline() {
            self.timer.as_mut().reset(self.deadline);
        }
    }

    /// `Ready(Err)` once the current phase's deadline has passed; otherwise registers for a wake-up then.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            self.observe();
            if self.limit(self.armed).is_none() {
                return Poll::Pending;
            }
            ready!(self.timer.as_mut().poll(cx));
            if Instant::now() >= self.deadline {
                let what = match self.armed {
                    HEAD => "request headers",
                    RESPONDING => "the client to take its response",
                    _ => "a request on an idle connection",
                };
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, format!("timed out waiting for {what}")));
            }
            // It fired for an earlier phase's deadline: move it on to this one's and register again.
            let deadline = self.deadline;
            self.timer.as_mut().reset(deadline);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                // The first bytes after an idle spell start the next request: its headers are now on the clock.
                if buf.filled().len() > before && this.phase.get() == IDLE {
                    this.phase.set(HEAD);
                    this.observe();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.poll_deadline(cx) {
                Poll::Ready(e) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, data) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            done => done,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.poll_deadline(cx).map(Err),
            done => done,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(Ok(())) => {
                // The response is out: the connection waits for the next request.
                if this.phase.get() == RESPONDING {
                    this.phase.set(IDLE);
                    // Register the idle deadline with this task now: hyper may not read again before the
                    // client sends something (its last read, while the request was decided, left the
                    // socket's readiness registered), so a timer armed here but never polled would never
                    // wake the connection to close it.
                    if let Poll::Ready(e) = this.poll_deadline(cx) {
                        return Poll::Ready(Err(e));
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.poll_deadline(cx).map(Err),
            failed => failed,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn deadlines(ms: u64) -> Deadlines {
        let d = Duration::from_millis(ms);
        Deadlines { header: d, respond: d, idle: Duration::from_secs(60) }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().enable_io().build().unwrap()
    }

    #[test]
    fn a_response_the_client_does_not_take_times_out() {
        runtime().block_on(async {
            // A 16-byte pipe the client never reads: the write blocks once it is full.
            let (server, _client) = tokio::io::duplex(16);
            let phase = Phase::default();
            let mut stream = Watched::new(server, phase.clone(), deadlines(150));
            phase.busy();
            phase.responding();
            let started = std::time::Instant::now();
            let written = stream.write_all(&[b'x'; 1024]).await;
            let error = written.expect_err("the write must time out");
            assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
            assert!(error.to_string().contains("take its response"), "{error}");
            assert!(started.elapsed() >= Duration::from_millis(140), "{:?}", started.elapsed());
        });
    }

    #[test]
    fn a_busy_connection_is_never_cut_and_a_late_request_head_is() {
        runtime().block_on(async {
            let (server, mut client) = tokio::io::duplex(1024);
            let phase = Phase::default();
            let mut stream = Watched::new(server, phase.clone(), deadlines(100));
            // Deciding: well past the header deadline, the read still waits.
            phase.busy();
            let mut buf = [0u8; 8];
            let waited = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
            assert!(waited.is_err(), "a busy connection timed out: {waited:?}");
            // Answered and flushed: idle. A first byte starts the next head, which then has 100 ms.
            phase.responding();
            stream.flush().await.unwrap();
            client.write_all(b"G").await.unwrap();
            assert_eq!(stream.read(&mut buf).await.unwrap(), 1);
            let error = stream.read(&mut buf).await.expect_err("the head must time out");
            assert_eq!(error.kind(), io::ErrorKind::TimedOut);
            assert!(error.to_string().contains("request headers"), "{error}");
        });
    }
    #[test]
    fn the_idle_deadline_wakes_a_connection_nobody_reads() {
        use std::sync::atomic::AtomicBool;
        use std::task::{Wake, Waker};

        struct Flag(AtomicBool);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        runtime().block_on(async {
            let (server, _client) = tokio::io::duplex(1024);
            let phase = Phase::default();
            let limits = Deadlines {
                header: Duration::from_secs(60),
                respond: Duration::from_secs(60),
                idle: Duration::from_millis(100),
            };
            let mut stream = Watched::new(server, phase.clone(), limits);
            phase.busy();
            phase.responding();
            // hyper flushes the response and then waits on the socket's readiness without reading again:
            // only the deadline's own timer can wake the connection to close it.
            let flag = Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(Arc::clone(&flag));
            let flushed = Pin::new(&mut stream).poll_flush(&mut Context::from_waker(&waker));
            assert!(matches!(flushed, Poll::Ready(Ok(()))), "{flushed:?}");
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(flag.0.load(Ordering::SeqCst), "the idle deadline did not wake the connection");
            let mut buf = [0u8; 8];
            let error = stream.read(&mut buf).await.expect_err("the idle connection must time out");
            assert_eq!(error.kind(), io::ErrorKind::TimedOut);
            assert!(error.to_string().contains("idle connection"), "{error}");
        });
    }
}
