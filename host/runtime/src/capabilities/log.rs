//! `log`, and the capture of stdout and stderr into the same log.
//!
//! One [`LogSink`] per call holds every line, and one byte budget
//! ([`Limits::log_bytes`](crate::Limits)) covers the `log` import,
//! stdout and stderr together. Past the budget the call ends with
//! `log-limit`. Without the `log` grant, `log` lines are dropped (but still
//! counted); stdout and stderr are always captured, since Rust's std writes
//! panics there.

use super::CallCapabilities;
use crate::bindings::latest::spleis::plugin::log as wit;
use crate::limits::LimitBreach;
use serde::{Deserialize, Serialize};
use spleis_registry::Capability;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// Severity of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Finest detail.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong.
    Warn,
    /// Something failed.
    Error,
}

impl From<wit::Level> for Level {
    fn from(level: wit::Level) -> Self {
        match level {
            wit::Level::Trace => Level::Trace,
            wit::Level::Debug => Level::Debug,
            wit::Level::Info => Level::Info,
            wit::Level::Warn => Level::Warn,
            wit::Level::Error => Level::Error,
        }
    }
}

/// Where a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The `log` import.
    Log,
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr.
    Stderr,
}

impl Source {
    /// The level captured output gets: stderr `warn`, everything else `info`.
    fn level(self) -> Level {
        if self == Source::Stderr {
            Level::Warn
        } else {
            Level::Info
        }
    }
}

/// One captured line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Where it came from.
    pub source: Source,
    /// Its level (stdout is `info`, stderr `warn`).
    pub level: Level,
    /// The text, without the trailing newline.
    pub message: String,
}

#[derive(Debug)]
struct Buffer {
    lines: Vec<LogLine>,
    used: u64,
    limit: u64,
    partial_stdout: Vec<u8>,
    partial_stderr: Vec<u8>,
}

/// The log of one call, shared by the `log` import and the stdio streams.
#[derive(Clone, Debug)]
pub struct LogSink(Arc<Mutex<Buffer>>);

impl LogSink {
    /// An empty log with a budget of `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self(Arc::new(Mutex::new(Buffer {
            lines: Vec::new(),
            used: 0,
            limit,
            partial_stdout: Vec::new(),
            partial_stderr: Vec::new(),
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Buffer> {
        // The buffer holds plain data: a panic elsewhere cannot leave it
        // half-updated in a way that matters, so take it even if poisoned.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Charges `n` bytes to the budget.
    fn charge(buffer: &mut Buffer, n: u64) -> Result<(), LimitBreach> {
        buffer.used = buffer.used.saturating_add(n);
        if buffer.used > buffer.limit {
            Err(LimitBreach::Log {
                limit: buffer.limit,
            })
        } else {
            Ok(())
        }
    }

    /// Records a line of the `log` import; `keep` is false without the grant.
    fn line(&self, level: Level, message: String, keep: bool) -> Result<(), LimitBreach> {
        let mut buffer = self.lock();
        Self::charge(&mut buffer, message.len() as u64 + 1)?;
        if keep {
            buffer.lines.push(LogLine {
                source: Source::Log,
                level,
                message,
            });
        }
        Ok(())
    }

    /// Records bytes the guest wrote to stdout or stderr.
    fn stdio(&self, source: Source, bytes: &[u8]) -> Result<(), LimitBreach> {
        let mut buffer = self.lock();
        Self::charge(&mut buffer, bytes.len() as u64)?;
        let level = source.level();
        let mut partial = std::mem::take(match source {
            Source::Stderr => &mut buffer.partial_stderr,
            _ => &mut buffer.partial_stdout,
        });
        partial.extend_from_slice(bytes);
        while let Some(end) = partial.iter().position(|&b| b == b'\n') {
            let rest = partial.split_off(end + 1);
            partial.pop();
            buffer.lines.push(LogLine {
                source,
                level,
                message: String::from_utf8_lossy(&partial).into_owned(),
            });
            partial = rest;
        }
        match source {
            Source::Stderr => buffer.partial_stderr = partial,
            _ => buffer.partial_stdout = partial,
        }
        Ok(())
    }

    /// The lines so far, with unfinished stdout/stderr lines completed.
    pub fn lines(&self) -> Vec<LogLine> {
        let buffer = self.lock();
        let mut lines = buffer.lines.clone();
        for (source, partial) in [
            (Source::Stdout, &buffer.partial_stdout),
            (Source::Stderr, &buffer.partial_stderr),
        ] {
            if !partial.is_empty() {
                lines.push(LogLine {
                    source,
                    level: source.level(),
                    message: String::from_utf8_lossy(partial).into_owned(),
                });
            }
        }
        lines
    }

    /// The WASI stdout or stderr of the call, writing into this log.
    pub fn stream(&self, source: Source) -> CapturedStream {
        CapturedStream {
            sink: self.clone(),
            source,
        }
    }
}

impl wit::Host for CallCapabilities {
    fn write(&mut self, level: wit::Level, message: String) -> wasmtime::Result<()> {
        let keep = self.granted(Capability::Log).is_ok();
        self.log
            .line(level.into(), message, keep)
            .map_err(wasmtime::Error::new)
    }
}

/// A guest's stdout or stderr, captured into a [`LogSink`].
#[derive(Clone)]
pub struct CapturedStream {
    sink: LogSink,
    source: Source,
}

impl IsTerminal for CapturedStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturedStream {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for CapturedStream {
    fn write(&mut self, bytes: bytes::Bytes) -> Result<(), StreamError> {
        self.sink
            .stdio(self.source, &bytes)
            .map_err(|breach| StreamError::Trap(wasmtime::Error::new(breach)))
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        // Always writable: the budget is enforced in `write`, so a guest
        // past it traps instead of waiting forever for room.
        Ok(64 << 10)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CapturedStream {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CapturedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.sink
                .stdio(self.source, buf)
                .map(|()| buf.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdio_is_split_into_lines_and_budgeted() {
        let sink = LogSink::new(20);
        sink.stdio(Source::Stdout, b"hello\nwor").unwrap();
        sink.stdio(Source::Stderr, b"oops\n").unwrap();
        let lines = sink.lines();
        assert_eq!(lines[0].message, "hello");
        assert_eq!(lines[1].source, Source::Stderr);
        assert_eq!(lines[2].message, "wor");
        // 14 bytes of stdio so far; a 5-byte line costs 6 with its newline: 20.
        assert_eq!(sink.line(Level::Info, "12345".into(), true), Ok(()));
        assert_eq!(
            sink.line(Level::Info, "x".into(), true),
            Err(LimitBreach::Log { limit: 20 })
        );
    }

    #[test]
    fn ungranted_lines_are_dropped_but_counted() {
        let sink = LogSink::new(10);
        sink.line(Level::Info, "12345".into(), false).unwrap();
        assert!(sink.lines().is_empty());
        assert!(sink.line(Level::Info, "12345".into(), false).is_err());
    }
}
