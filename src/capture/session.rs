//! A running capture: the sockets, the reader thread that writes the file, and its counters.
//!
//! One thread serves every interface through poll(2) with a short timeout, so that `stop` is
//! prompt without busy waiting, and so that one writer owns the file (packets of different
//! interfaces are written in the order they are read, which tshark accepts).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::pcap::{InterfaceDesc, Record, Writer, SNAPLEN};
use super::socket::PacketSocket;
use super::CaptureError;

/// How long the reader sleeps in poll(2) before looking at the stop flag.
const POLL_MS: libc::c_int = 20;
/// After stop is asked: a queue that stays empty this long is drained. Covers packets still
/// in the kernel's receive backlog when the last program exits.
const SETTLE_MS: libc::c_int = 20;
/// Packets read from one socket before turning to the next, so a busy interface cannot
/// starve the others.
const BATCH: usize = 256;
const FILE_BUFFER: usize = 256 * 1024;

/// Counters of a finished capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CaptureStats {
    /// Packets written to the file.
    pub packets: u64,
    /// Their lengths on the wire, summed (before the snaplen cut).
    pub bytes: u64,
    /// Packets the kernel dropped because the reader fell behind (PACKET_STATISTICS).
    pub dropped: u64,
}

/// A capture in progress; see the module docs of `capture` for the contract.
#[derive(Debug)]
pub(crate) struct Capture {
    path: PathBuf,
    seen: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
    reader: Option<JoinHandle<Result<Finished, CaptureError>>>,
}

/// What the reader thread hands back.
#[derive(Debug)]
struct Finished {
    sockets: Vec<PacketSocket>,
    writer: Writer<BufWriter<File>>,
    packets: u64,
    bytes: u64,
}

impl Capture {
    /// Opens one AF_PACKET socket per interface (e.g. `&["lo"]`), before any program starts,
    /// creates the file at `path` with its header, and starts the reader thread.
    pub(crate) fn start(ifaces: &[&str], path: &Path) -> Result<Capture, CaptureError> {
        if ifaces.is_empty() {
            return Err(CaptureError::NoInterface);
        }
        let sockets = ifaces
            .iter()
            .map(|iface| PacketSocket::open(iface))
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
        let reader = {
            let (seen, stopping, path) = (seen.clone(), stopping.clone(), path.to_path_buf());
            std::thread::Builder::new()
                .name("socklab-capture".into())
                .spawn(move || read_loop(sockets, writer, &path, &seen, &stopping))
                .map_err(|source| CaptureError::Thread { source })?
        };
        Ok(Capture {
            path: path.to_path_buf(),
            seen,
            stopping,
            reader: Some(reader),
        })
    }

    /// Packets seen so far, live and cheap: the harness polls it to detect quiescence.
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
        } = finished;
        let write_err = |source| CaptureError::Write {
            path: self.path.clone(),
            source,
        };
        let file = writer
            .into_inner()
            .into_inner()
            .map_err(|e| write_err(e.into_error()))?;
        file.sync_all().map_err(write_err)?;
        let mut dropped = 0;
        for sock in &sockets {
            dropped += sock.take_drops().map_err(|source| CaptureError::Receive {
                iface: sock.iface.clone(),
                source,
            })?;
        }
        Ok(CaptureStats {
            packets,
            bytes,
            dropped,
        })
    }

    fn finish(&mut self) -> Result<Finished, CaptureError> {
        self.stopping.store(true, Ordering::Relaxed);
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
    sockets: Vec<PacketSocket>,
    mut writer: Writer<BufWriter<File>>,
    path: &Path,
    seen: &AtomicU64,
    stopping: &AtomicBool,
) -> Result<Finished, CaptureError> {
    let mut buf = vec![0u8; SNAPLEN as usize];
    let mut pollfds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let (mut packets, mut bytes) = (0u64, 0u64);
    loop {
        let stop_asked = stopping.load(Ordering::Relaxed);
        let timeout = if stop_asked { SETTLE_MS } else { POLL_MS };
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
            return Err(CaptureError::Receive {
                iface: sockets[0].iface.clone(),
                source: err,
            });
        }
        if ready == 0 && stop_asked {
            // Nothing arrived during the settle time after stop: the queues are drained.
            break;
        }
        for (iface, sock) in sockets.iter().enumerate() {
            for _ in 0..BATCH {
                let frame = sock
                    .recv(&mut buf)
                    .map_err(|source| CaptureError::Receive {
                        iface: sock.iface.clone(),
                        source,
                    })?;
                let Some(frame) = frame else { break };
                let rec = Record {
                    iface: iface as u32,
                    ts: frame.ts,
                    data: &buf[..frame.caplen],
                    orig_len: u32::try_from(frame.orig_len).unwrap_or(u32::MAX),
                };
                writer.write(&rec).map_err(|source| CaptureError::Write {
                    path: path.to_path_buf(),
                    source,
                })?;
                packets += 1;
                bytes += frame.orig_len as u64;
                seen.store(packets, Ordering::Relaxed);
            }
        }
    }
    writer.flush().map_err(|source| CaptureError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Finished {
        sockets,
        writer,
        packets,
        bytes,
    })
}
