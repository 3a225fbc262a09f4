//! One AF_PACKET socket bound to one interface, read through a TPACKET_V3 ring it shares with
//! the kernel.
//!
//! Set-up follows libpcap: the socket is created with protocol 0 so it receives nothing until
//! it is bound to its interface with ETH_P_ALL (no packet of another interface slips in between);
//! on a loopback interface the outgoing copy of each packet is ignored, since the same packet
//! comes back as incoming.
//!
//! Why a ring: packets queued on a plain packet socket count against its receive buffer, which
//! the kernel caps at `net.core.rmem_max` (often 208 KiB: three 64 KiB loopback segments) and
//! which cannot be forced larger from inside a user namespace; a bulk loopback transfer then
//! outruns the reader and the kernel drops frames. A TPACKET_V3 ring is memory the kernel
//! copies packets into directly, RING_BYTES of it, packed back to back in blocks; a block is
//! handed over when full or RETIRE_MS after its first packet, and the reader returns it once
//! written out. Timestamps are the kernel's, in nanoseconds, taken on arrival.
//!
//! Nothing is lost silently: the kernel counts the packets it put in the ring and those it
//! dropped for lack of room (PACKET_STATISTICS), so the reader knows when it has everything
//! ([`PacketSocket::pending`]) and reports drops.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use super::link::link_info;
use super::pcap::{Record, Timestamp, LINKTYPE_ETHERNET, SNAPLEN};
use super::CaptureError;

/// Kernel UAPI values (linux/if_packet.h, asm-generic/socket.h), spelled here because not
/// every libc release exports them.
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;
const PACKET_OUTGOING: u8 = 4;
const SO_TIMESTAMPNS: libc::c_int = 35;

/// Ring geometry. A block must hold the largest loopback frame (64 KiB + headers); 1 MiB
/// blocks hold about 16 of those or thousands of small ones. The ring is asked for whole and
/// halved while the kernel cannot allocate it, down to MIN_BLOCKS.
const BLOCK_SIZE: u32 = 1 << 20;
const MIN_BLOCKS: u32 = 4;
/// V3 packs packets by their size; the frame size only has to pass the kernel's checks.
const FRAME_SIZE: u32 = 2048;
/// A block that is not full is handed over this long after its first packet, which bounds
/// how late a packet shows in the live count the harness watches for quiescence.
const RETIRE_MS: u32 = 1;

/// Byte offsets in the ring (struct tpacket_block_desc with tpacket_hdr_v1, and struct
/// tpacket3_hdr followed by a struct sockaddr_ll at TPACKET_ALIGN(48)).
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_MAC: usize = 24;
const PKT_SLL_PKTTYPE: usize = 48 + 10;

#[derive(Debug)]
pub(super) struct PacketSocket {
    // The ring is unmapped before the socket closes (fields drop in order).
    ring: Ring,
    fd: OwnedFd,
    /// The interface's name in the capture file (`lo`, or `server/eth0` in a topology).
    pub iface: String,
    pub linktype: u16,
    loopback: bool,
    /// Keep only the frames this interface sends (see [`super::Tap::outgoing_only`]).
    outgoing_only: bool,
    /// Packets taken out of the ring, outgoing copies skipped included.
    taken: u64,
    /// The kernel's counts since the bind, summed over reads of PACKET_STATISTICS (which
    /// resets them): packets put in the ring, and packets dropped because it was full.
    queued: u64,
    dropped: u64,
}

/// The mapped ring and the index of the next block to read.
#[derive(Debug)]
struct Ring {
    base: NonNull<u8>,
    block_size: usize,
    blocks: usize,
    next: usize,
}

// SAFETY: the mapping is owned by one PacketSocket, used by one thread at a time.
unsafe impl Send for Ring {}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: base and length are those of our own mmap, unmapped once.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.block_size * self.blocks) };
    }
}

#[repr(C)]
#[derive(Default)]
struct TpacketStatsV3 {
    tp_packets: libc::c_uint,
    tp_drops: libc::c_uint,
    tp_freeze_q_cnt: libc::c_uint,
}

#[repr(C)]
struct TpacketReq3 {
    tp_block_size: libc::c_uint,
    tp_block_nr: libc::c_uint,
    tp_frame_size: libc::c_uint,
    tp_frame_nr: libc::c_uint,
    tp_retire_blk_tov: libc::c_uint,
    tp_sizeof_priv: libc::c_uint,
    tp_feature_req_word: libc::c_uint,
}

impl PacketSocket {
    /// Opens the socket of `tap` with a ring of `ring_mib` MiB (at least MIN_BLOCKS), from
    /// inside the tap's network namespace when it names one.
    pub(super) fn open(tap: &super::Tap<'_>, ring_mib: u32) -> Result<PacketSocket, CaptureError> {
        let Some(netns) = tap.netns else {
            return Self::open_here(tap, ring_mib);
        };
        crate::sandbox::topo::within(netns, || Self::open_here(tap, ring_mib)).map_err(
            |source| CaptureError::Socket {
                iface: tap.label.clone(),
                source,
            },
        )?
    }

    fn open_here(tap: &super::Tap<'_>, ring_mib: u32) -> Result<PacketSocket, CaptureError> {
        let iface = tap.iface;
        let info = link_info(iface)?;
        let linktype = match info.hatype {
            // Both deliver Ethernet frames on a raw packet socket (lo has all-zero MACs).
            libc::ARPHRD_ETHER | libc::ARPHRD_LOOPBACK => LINKTYPE_ETHERNET,
            hatype => {
                return Err(CaptureError::UnsupportedLink {
                    iface: iface.to_string(),
                    hatype,
                })
            }
        };
        let sock_err = |source| CaptureError::Socket {
            iface: iface.to_string(),
            source,
        };
        // SAFETY: plain socket(2) call; the descriptor is owned right away.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(sock_err(io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let set = |level, name, value: libc::c_int, option| {
            set_int(&fd, iface, level, name, value, option)
        };
        // Makes the kernel take arrival timestamps when the packet enters the stack, as for
        // any capture; the ring then carries them.
        set(libc::SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS")?;
        if info.loopback {
            // Older kernels (< 4.20) lack it; `drain` then skips outgoing copies itself.
            let _ = set(
                libc::SOL_PACKET,
                PACKET_IGNORE_OUTGOING,
                1,
                "PACKET_IGNORE_OUTGOING",
            );
        }
        set(
            libc::SOL_PACKET,
            PACKET_VERSION,
            TPACKET_V3,
            "PACKET_VERSION",
        )?;
        let ring = Ring::map(&fd, iface, ring_mib.max(MIN_BLOCKS))?;
        // SAFETY: sockaddr_ll is plain old data; all zeroes is valid.
        let mut addr: libc::sockaddr_ll = unsafe { zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
        addr.sll_ifindex = info.index;
        // SAFETY: addr is a valid sockaddr_ll of the size given.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(sock_err(io::Error::last_os_error()));
        }
        let mut sock = PacketSocket {
            ring,
            fd,
            iface: tap.label.clone(),
            linktype,
            loopback: info.loopback,
            outgoing_only: tap.outgoing_only,
            taken: 0,
            queued: 0,
            dropped: 0,
        };
        // Counters count from the bind on, not from socket creation.
        sock.refresh_stats().map_err(sock_err)?;
        (sock.queued, sock.dropped) = (0, 0);
        Ok(sock)
    }

    pub(super) fn raw_fd(&self) -> libc::c_int {
        self.fd.as_raw_fd()
    }

    /// Hands the packets of each block the kernel has finished, at most `max_blocks` blocks,
    /// to `each_block` in arrival order as records of interface `iface`, borrowed from the ring,
    /// and gives the blocks back to the kernel. Returns the number of packets handed over
    /// (outgoing copies on loopback are skipped). A packet is cut to SNAPLEN; `orig_len` keeps
    /// its length on the wire.
    pub(super) fn drain<E>(
        &mut self,
        iface: u32,
        max_blocks: usize,
        mut each_block: impl FnMut(&[Record<'_>]) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut handed = 0;
        for _ in 0..max_blocks {
            let Some(block) = self.ring.ready_block() else {
                break;
            };
            let count = read_u32(block, BLOCK_NUM_PKTS);
            let mut packets = Vec::with_capacity(count as usize);
            let mut at = read_u32(block, BLOCK_FIRST_PKT) as usize;
            for i in 0..count {
                let Some(pkt) = block.get(at..) else { break };
                self.taken += 1;
                let outgoing = pkt.get(PKT_SLL_PKTTYPE) == Some(&PACKET_OUTGOING);
                if !(self.loopback && outgoing) && (outgoing || !self.outgoing_only) {
                    let mac = usize::from(u16::from_ne_bytes([pkt[PKT_MAC], pkt[PKT_MAC + 1]]));
                    let snaplen = read_u32(pkt, PKT_SNAPLEN).min(SNAPLEN) as usize;
                    packets.push(Record {
                        iface,
                        data: pkt.get(mac..mac + snaplen).unwrap_or_default(),
                        orig_len: read_u32(pkt, PKT_LEN),
                        ts: Timestamp {
                            secs: u64::from(read_u32(pkt, PKT_SEC)),
                            nanos: read_u32(pkt, PKT_NSEC),
                        },
                    });
                }
                let next = read_u32(pkt, PKT_NEXT) as usize;
                if next == 0 && i + 1 < count {
                    break;
                }
                at += next;
            }
            each_block(&packets)?;
            handed += packets.len() as u64;
            self.ring.release_block();
        }
        Ok(handed)
    }

    /// Reads the kernel's counters (PACKET_STATISTICS, which resets them) into the totals.
    pub(super) fn refresh_stats(&mut self) -> io::Result<()> {
        let mut stats = TpacketStatsV3::default();
        let mut len = size_of::<TpacketStatsV3>() as libc::socklen_t;
        // SAFETY: stats is a tpacket_stats_v3 of the size given.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                PACKET_STATISTICS,
                (&mut stats as *mut TpacketStatsV3).cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // With a V3 ring tp_packets counts the drops too.
        let drops = u64::from(stats.tp_drops);
        self.dropped += drops;
        self.queued += u64::from(stats.tp_packets).saturating_sub(drops);
        Ok(())
    }

    /// Packets the kernel has put in the ring since the bind (as of the last `refresh_stats`,
    /// or more if more were read since).
    pub(super) fn queued(&self) -> u64 {
        self.queued.max(self.taken)
    }

    /// Packets the kernel has put in the ring that are not taken out yet (as of the last
    /// `refresh_stats`): they sit in a block not yet handed over.
    pub(super) fn pending(&self) -> u64 {
        self.queued.saturating_sub(self.taken)
    }

    /// Packets the kernel dropped because the ring was full (as of the last `refresh_stats`).
    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl Ring {
    /// Asks the kernel for the ring (halving it while memory is short) and maps it.
    fn map(fd: &OwnedFd, iface: &str, blocks: u32) -> Result<Ring, CaptureError> {
        let mut blocks = blocks;
        loop {
            let req = TpacketReq3 {
                tp_block_size: BLOCK_SIZE,
                tp_block_nr: blocks,
                tp_frame_size: FRAME_SIZE,
                tp_frame_nr: BLOCK_SIZE / FRAME_SIZE * blocks,
                tp_retire_blk_tov: RETIRE_MS,
                tp_sizeof_priv: 0,
                tp_feature_req_word: 0,
            };
            // SAFETY: req is a tpacket_req3 of the size given.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_PACKET,
                    PACKET_RX_RING,
                    (&req as *const TpacketReq3).cast(),
                    size_of::<TpacketReq3>() as libc::socklen_t,
                )
            };
            if rc < 0 {
                let err = io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::ENOMEM) && blocks > MIN_BLOCKS {
                    blocks /= 2;
                    continue;
                }
                return Err(CaptureError::SocketOption {
                    iface: iface.to_string(),
                    option: "PACKET_RX_RING",
                    source: err,
                });
            }
            break;
        }
        let len = BLOCK_SIZE as usize * blocks as usize;
        // SAFETY: maps the ring just set up on fd, shared with the kernel, at an address the
        // kernel picks; checked for MAP_FAILED below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(CaptureError::SocketOption {
                iface: iface.to_string(),
                option: "mmap of PACKET_RX_RING",
                source: io::Error::last_os_error(),
            });
        }
        Ok(Ring {
            base: NonNull::new(base.cast()).expect("mmap never returns null on success"),
            block_size: BLOCK_SIZE as usize,
            blocks: blocks as usize,
            next: 0,
        })
    }

    fn status(&self) -> &AtomicU32 {
        // SAFETY: block_status is a 4-byte aligned u32 inside the mapping that the kernel
        // and we access atomically; the reference lives no longer than the mapping.
        unsafe {
            &*self
                .base
                .as_ptr()
                .add(self.next * self.block_size + BLOCK_STATUS)
                .cast::<AtomicU32>()
        }
    }

    /// The next block, if the kernel has handed it over.
    fn ready_block(&self) -> Option<&[u8]> {
        // Acquire: the packets the kernel wrote before setting the status are visible.
        if self.status().load(Ordering::Acquire) & TP_STATUS_USER == 0 {
            return None;
        }
        // SAFETY: the block is ours until release_block; the kernel does not write to it.
        Some(unsafe {
            std::slice::from_raw_parts(
                self.base.as_ptr().add(self.next * self.block_size),
                self.block_size,
            )
        })
    }

    /// Gives the current block back to the kernel and moves on.
    fn release_block(&mut self) {
        // Release: our reads of the block are done before the kernel may reuse it.
        self.status().store(TP_STATUS_KERNEL, Ordering::Release);
        self.next = (self.next + 1) % self.blocks;
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

fn set_int(
    fd: &OwnedFd,
    iface: &str,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
    option: &'static str,
) -> Result<(), CaptureError> {
    // SAFETY: the option value is one c_int of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(CaptureError::SocketOption {
            iface: iface.to_string(),
            option,
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}
