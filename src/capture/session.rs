//! A running capture: the sockets, the reader thread that writes the file, and its counters.
//!
//! One thread serves every interface through poll(2) with a short timeout, so that `stop` is
//! prompt without busy waiting, and so that one writer owns the file (packets of different
//! interfaces are written in the order they are read, which tshark accepts).

use std::fs::File;
use std::io::BufWriter;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::pcap::{InterfaceDesc, Record, Writer};
use super::socket::PacketSocket;
use super::CaptureError;

/// How long the reader sleeps in poll(2) before looking at the stop flag; `stop` also wakes it
/// at once through a pipe, and the kernel wakes it whenever it hands over a block of the ring.
const POLL_MS: libc::c_int = 100;
/// After stop is asked: the kernel must have queued no new packet for this long, and every
/// packet it queued must be read, before the capture ends. On loopback a frame is queued while
/// its sender is still in the send call, so by the time the last program has exited its frames
/// are queued already; the settle only covers softirq work still running on another CPU. Every
/// run pays it once, so it is kept short.
const SETTLE_MS: libc::c_int = 2;
/// The longest stop waits for the kernel to hand over the ring's last, partly filled block
/// (it does so RETIRE_MS after that block's first packet); packets still missing then are
/// counted as dropped, never waited for forever.
const STOP_LIMIT: Duration = Duration::from_millis(500);
/// Blocks read from one ring before turning to the next, so a busy interface cannot starve
/// the others.
const BATCH_BLOCKS: usize = 4;
const FILE_BUFFER: usize = 256 * 1024;

/// The capture ring of one interface, in MiB, when memory allows: a burst of this much is
/// captured whole however fast it comes. Rings are kernel memory held for a whole run, so the
/// harness gives each less when it runs many sandboxes at once (see `run`).
pub(crate) const RING_MIB: u32 = 32;
/// Packet bytes a capture file holds whole; later packets keep their first
/// [`HEADERS_ONLY`] bytes (as `editcap -s` would cut them). An endless transfer between two
/// programs would otherwise fill the disk at loopback speed (1.2 GB in a 20 s scenario here);
/// the exchange a lab grades is long over by then, and the cut keeps every later packet's
/// flags and sequence numbers for the TCP analysis.
const WHOLE_PACKETS_BYTES: u64 = 64 * 1024 * 1024;
/// Ethernet + IPv6 + TCP with options, rounded up.
const HEADERS_ONLY: usize = 128;

/// One interface to capture.
#[derive(Debug, Clone)]
pub(crate) struct Tap<'a> {
    /// The interface's name in its namespace (`lo`, `eth0`).
    pub iface: &'a str,
    /// Its name in the capture file: `lo` alone, `server/eth0` in a topology.
    pub label: String,
    /// The network namespace it is in (a topology's host); `None`: the caller's.
    pub netns: Option<std::os::fd::RawFd>,
    /// Keep only the frames the interface sends. A frame between two hosts passes both
    /// ends of their link (it leaves one host's `eth0` and arrives at the other's): kept
    /// where it was sent, it is in the file once, on the interface of the computer that sent
    /// it, and every frame on a link was sent by one of its ends. (Loopback interfaces keep
    /// the other copy, as libpcap does, and need no flag.)
    pub outgoing_only: bool,
}

impl<'a> Tap<'a> {
    /// `iface` of the caller's namespace, every frame once.
    pub(crate) fn here(iface: &'a str) -> Tap<'a> {
        Tap {
            iface,
            label: iface.to_string(),
            netns: None,
            outgoing_only: false,
        }
    }
}

/// Counters of a finished capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CaptureStats {
    /// Packets written to the file.
    pub packets: u64,
    /// Their lengths on the wire, summed (before the snaplen cut).
    pub bytes: u64,
    /// Packets the kernel dropped because the reader fell behind (PACKET_STATISTICS).
    pub dropped: u64,
    /// Packets written with their headers only, after [`WHOLE_PACKETS_BYTES`] were written.
    pub headers_only: u64,
}

/// A capture in progress; see the module docs of `capture` for the contract.
#[derive(Debug)]
pub(crate) struct Capture {
    path: PathBuf,
    /// Read only by tests now: hang detection is per program, from `/proc` (see `exec`).
    #[cfg_attr(not(test), allow(dead_code))]
    seen: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
    /// Write end of the pipe that wakes the reader out of poll(2) when stop is asked.
    wake: OwnedFd,
    reader: Option<JoinHandle<Result<Finished, CaptureError>>>,
}

/// What the reader thread hands back.
#[derive(Debug)]
struct Finished {
    sockets: Vec<PacketSocket>,
    writer: Writer<BufWriter<File>>,
    packets: u64,
    bytes: u64,
    /// Packets the kernel queued that were still not handed over when STOP_LIMIT ran out.
    lost: u64,
    headers_only: u64,
}

impl Capture {
    /// Opens one AF_PACKET socket per interface of this namespace (e.g. `&["lo"]`), before
    /// any program starts, creates the file at `path` with its header, and starts the reader
    /// thread. Each socket gets a ring of `ring_mib` MiB (see [`RING_MIB`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn start(
        ifaces: &[&str],
        path: &Path,
        ring_mib: u32,
    ) -> Result<Capture, CaptureError> {
        let taps: Vec<Tap<'_>> = ifaces.iter().map(|i| Tap::here(i)).collect();
        Capture::start_taps(&taps, path, ring_mib)
    }

    /// [`Capture::start`] for interfaces anywhere in the run's topology, each named as its
    /// tap says.
    pub(crate) fn start_taps(
        taps: &[Tap<'_>],
        path: &Path,
        ring_mib: u32,
    ) -> Result<Capture, CaptureError> {
        if taps.is_empty() {
            return Err(CaptureError::NoInterface);
        }
        let sockets = taps
            .iter()
            .map(|tap| PacketSocket::open(tap, ring_mib))
            .collect::<Result<Vec<_>, _>>()?;
        let file = File::create(path).map_err(|source| CaptureError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        let out = BufWriter::with_capacity(FILE_BUFFER, file);
        let written = if let [only] = &sockets[..] {
            Writer::pcap(out, only.linktype)
        } else {
            let descs: Vec<InterfaceDesc> = sockets
                .iter()
                .map(|s| InterfaceDesc {
                    name: s.iface.clone(),
                    linktype: s.linktype,
                })
                .collect();
            Writer::pcapng(out, &descs)
        };
        let writer = written.map_err(|source| CaptureError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let seen = Arc::new(AtomicU64::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills the two-element array with new descriptors we then own.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(CaptureError::Thread {
                source: std::io::Error::last_os_error(),
            });
        }
        // SAFETY: both descriptors were just created and are owned by nothing else.
        let (wake_rx, wake) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let reader = {
            let (seen, stopping, path) = (seen.clone(), stopping.clone(), path.to_path_buf());
            std::thread::Builder::new()
                .name("socklab-capture".into())
                .spawn(move || read_loop(sockets, writer, &path, &seen, &stopping, &wake_rx))
                .map_err(|source| CaptureError::Thread { source })?
        };
        Ok(Capture {
            path: path.to_path_buf(),
            seen,
            stopping,
            wake,
            reader: Some(reader),
        })
    }

    /// Packets seen so far, live and cheap: tests poll it to wait for traffic.
    #[cfg(test)]
    pub(crate) fn packets_seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// Drains what the kernel still holds, stops the reader thread, flushes and closes the file.
    pub(crate) fn stop(mut self) -> Result<CaptureStats, CaptureError> {
        let finished = self.finish()?;
        let Finished {
            sockets,
            writer,
            packets,
            bytes,
            lost,
            headers_only,
        } = finished;
        let write_err = |source| CaptureError::Write {
            path: self.path.clone(),
            source,
        };
        let file = writer
            .into_inner()
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        // No fsync: the file only has to reach the page cache before the report reads it.
        drop(file);
        let dropped = sockets.iter().map(PacketSocket::dropped).sum::<u64>() + lost;
        // Closing a packet socket waits for an RCU grace period in the kernel (packet_release
        // calls synchronize_net: ~10 ms), which would add to every scenario run. The sandbox
        // process exits right after handing over its evidence, and the kernel releases the
        // sockets then, off the harness's critical path.
        std::mem::forget(sockets);
        Ok(CaptureStats {
            packets,
            bytes,
            dropped,
            headers_only,
        })
    }

    fn finish(&mut self) -> Result<Finished, CaptureError> {
        self.stopping.store(true, Ordering::Relaxed);
        // SAFETY: writing one byte from a live buffer to our own pipe; a full pipe (EAGAIN)
        // means a wake-up is already pending.
        unsafe { libc::write(self.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        let reader = self.reader.take().ok_or(CaptureError::ThreadPanicked)?;
        reader.join().map_err(|_| CaptureError::ThreadPanicked)?
    }
}

impl Drop for Capture {
    /// A capture dropped without `stop` (an error path of the harness) still ends its thread
    /// and leaves a readable file.
    fn drop(&mut self) {
        if self.reader.is_some() {
            if let Ok(mut f) = self.finish() {
                let _ = f.writer.flush();
            }
        }
    }
}

fn read_loop(
    mut sockets: Vec<PacketSocket>,
    mut writer: Writer<BufWriter<File>>,
    path: &Path,
    seen: &AtomicU64,
    stopping: &AtomicBool,
    wake: &OwnedFd,
) -> Result<Finished, CaptureError> {
    let mut pollfds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    pollfds.push(libc::pollfd {
        fd: wake.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    let (mut packets, mut bytes) = (0u64, 0u64);
    let (mut written, mut headers_only) = (0u64, 0u64);
    // Once stop is asked: when, and how many packets the kernel had queued at the last look.
    let mut stop: Option<(Instant, u64)> = None;
    let receive_err = |sock: &PacketSocket, source| CaptureError::Receive {
        iface: sock.iface.clone(),
        source,
    };
    loop {
        if stop.is_none() && stopping.load(Ordering::Relaxed) {
            // The wake pipe stays readable once written: from now on poll the sockets only.
            pollfds.truncate(sockets.len());
            let queued = refresh_all(&mut sockets).map_err(|(i, e)| receive_err(&sockets[i], e))?;
            stop = Some((Instant::now(), queued));
        }
        let timeout = if stop.is_some() { SETTLE_MS } else { POLL_MS };
        for p in &mut pollfds {
            p.revents = 0;
        }
        // SAFETY: pollfds is a live array of the length given.
        let ready =
            unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, timeout) };
        if ready < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(receive_err(&sockets[0], err));
        }
        // Round robin over the rings until none has a finished block left.
        loop {
            let mut handed = 0;
            for (iface, sock) in sockets.iter_mut().enumerate() {
                handed += sock.drain(iface as u32, BATCH_BLOCKS, |recs| {
                    bytes += recs.iter().map(|r| u64::from(r.orig_len)).sum::<u64>();
                    let cut: Vec<Record<'_>>;
                    let recs = if written >= WHOLE_PACKETS_BYTES {
                        headers_only += recs.len() as u64;
                        cut = recs
                            .iter()
                            .map(|r| Record {
                                data: &r.data[..r.data.len().min(HEADERS_ONLY)],
                                ..*r
                            })
                            .collect();
                        &cut[..]
                    } else {
                        recs
                    };
                    written += recs.iter().map(|r| r.data.len() as u64).sum::<u64>();
                    writer
                        .write_batch(recs)
                        .map_err(|source| CaptureError::Write {
                            path: path.to_path_buf(),
                            source,
                        })
                })?;
            }
            if handed == 0 {
                break;
            }
            packets += handed;
            seen.store(packets, Ordering::Relaxed);
        }
        if let Some((since, queued_before)) = stop {
            let queued = refresh_all(&mut sockets).map_err(|(i, e)| receive_err(&sockets[i], e))?;
            let pending: u64 = sockets.iter().map(PacketSocket::pending).sum();
            // Done when nothing new was queued during the settle time and all is read.
            if (queued == queued_before && pending == 0) || since.elapsed() > STOP_LIMIT {
                writer.flush().map_err(|source| CaptureError::Write {
                    path: path.to_path_buf(),
                    source,
                })?;
                return Ok(Finished {
                    sockets,
                    writer,
                    packets,
                    bytes,
                    lost: pending,
                    headers_only,
                });
            }
            stop = Some((since, queued));
        }
    }
}

/// Reads every socket's kernel counters; returns the packets queued in all rings so far, or
/// the index of the socket that failed.
fn refresh_all(sockets: &mut [PacketSocket]) -> Result<u64, (usize, std::io::Error)> {
    let mut queued = 0;
    for (i, sock) in sockets.iter_mut().enumerate() {
        sock.refresh_stats().map_err(|e| (i, e))?;
        queued += sock.queued();
    }
    Ok(queued)
}
