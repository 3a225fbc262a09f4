//! Topologies: the labs' "two computers" on one machine (effects).
//!
//! A plan with two hosts or more gets one network namespace per host, made by the sandbox's
//! PID 1 inside the run's user namespace, so that it goes when the run's namespaces go: no
//! interface, address or namespace is ever left on the machine. Each host has:
//!
//! - its own `lo`, up (127.0.0.1 is each computer's own, as on two machines);
//! - `eth0`, with the plan's locally administered MAC address (`02:53:4c:00:00:0N`) and its
//!   address `/24` from the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
//!   203.0.113.0/24), plus an on-link route to each other host outside that /24;
//! - no IPv6 on `eth0` (no router solicitations, duplicate-address probes or multicast reports
//!   in the capture: only what the programs send, and the ARP that lets them).
//!
//! Two hosts are joined by a veth pair, each end the `eth0` of one host; three or more by a
//! bridge `br0` in the sandbox's own namespace, each host's `eth0` the peer of a `vethN` port
//! of it. There are no static neighbour entries: the hosts find each other by ARP, as two
//! machines do, and the capture shows it.
//!
//! Namespaces are per thread: [`build`] makes each host's with `unshare(CLONE_NEWNET)` and
//! returns to the sandbox's with `setns`, keeping a close-on-exec handle on each; a program
//! joins its host's namespace between fork and exec ([`join`]), while it still has the
//! supervisor's capabilities, and the capture opens each interface's socket from inside its
//! host ([`within`]). Handles are held by PID 1 only.
//!
//! The links are made with `netlink-packet-route` + `netlink-sys`, the rust-netlink project's
//! message types and socket (the crates `rtnetlink` is built on), used synchronously: the
//! handful of requests a run makes need no async runtime, and `rtnetlink` would bring tokio
//! into the sandbox's PID 1, which must stay single-threaded until it has made its namespaces.
//! `neli` would do as well, but describes rtnetlink attributes more loosely (raw attribute
//! numbers for veth peers and namespaces), where `netlink-packet-route` has a type for each.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::plan::HostPlan;

/// A host's interface towards the others.
pub(crate) const HOST_IFACE: &str = "eth0";
const BRIDGE: &str = "br0";

/// Handles on the hosts' network namespaces, in plan order, set once by [`build`].
static HOSTS: std::sync::OnceLock<Vec<OwnedFd>> = std::sync::OnceLock::new();

/// The network namespace of host `index`, if the run has a topology.
pub(crate) fn host_netns(index: usize) -> Option<RawFd> {
    HOSTS.get()?.get(index).map(AsRawFd::as_raw_fd)
}

/// Makes the hosts of `hosts` (two or more) and links them; the calling thread ends in the
/// namespace it started in. Call once, from the sandbox's PID 1.
pub(crate) fn build(hosts: &[HostPlan]) -> Result<(), String> {
    let home =
        open_netns().map_err(|e| format!("cannot open the sandbox's network namespace: {e}"))?;
    let mut handles = Vec::with_capacity(hosts.len());
    for h in hosts {
        let made = new_host_netns();
        // Back home whatever happened, before anything else is made.
        let back = enter(home.as_fd());
        let fd =
            made.map_err(|e| format!("cannot make host `{}`'s network namespace: {e}", h.name))?;
        back.map_err(|e| format!("cannot return to the sandbox's network namespace: {e}"))?;
        handles.push(fd);
    }
    link(hosts, &handles).map_err(|e| format!("cannot link the hosts: {e}"))?;
    for (h, fd) in hosts.iter().zip(&handles) {
        within(fd.as_raw_fd(), || configure(h, hosts))
            .and_then(|r| r)
            .map_err(|e| format!("cannot configure host `{}` ({}): {e}", h.name, h.addr))?;
    }
    HOSTS
        .set(handles)
        .map_err(|_| "the hosts were made twice".to_string())
}

/// Runs `f` with the calling thread in network namespace `netns`, then returns it to the one
/// it was in. Sockets made in `f` stay in `netns`.
pub(crate) fn within<T>(netns: RawFd, f: impl FnOnce() -> T) -> std::io::Result<T> {
    let home = open_netns()?;
    // SAFETY: the caller's handle is open for the duration of this call.
    enter(unsafe { BorrowedFd::borrow_raw(netns) })?;
    let out = f();
    enter(home.as_fd())?;
    Ok(out)
}

/// Moves the calling process into `netns`: called between fork and exec, so only a syscall.
/// SAFETY contract: async-signal-safe (one `setns`).
pub(crate) fn join(netns: RawFd) -> std::io::Result<()> {
    // SAFETY: setns on a descriptor the supervisor holds open.
    if unsafe { libc::setns(netns, libc::CLONE_NEWNET) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn open_netns() -> std::io::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        "/proc/thread-self/ns/net",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    Ok(fd)
}

fn enter(netns: BorrowedFd<'_>) -> std::io::Result<()> {
    nix::sched::setns(netns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
}

/// A fresh network namespace for this thread, set up as a host's before its links exist: `lo`
/// up, no IPv6 on interfaces made later, every port bindable (as in the sandbox's own).
fn new_host_netns() -> std::io::Result<OwnedFd> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
    let fd = open_netns()?;
    crate::capture::set_link_up("lo").map_err(std::io::Error::other)?;
    // /proc/sys/net describes the namespace of the thread that opens the file.
    let sysctl = |path: &str, value: &str| std::fs::write(format!("/proc/sys/net/{path}"), value);
    // Best effort: a kernel without IPv6 has no such setting, and nothing to keep quiet.
    let _ = sysctl("ipv6/conf/default/disable_ipv6", "1");
    // Best effort, as in the sandbox's namespace: before Linux 4.11 only ports below 1024 are
    // kept from programs.
    let _ = sysctl("ipv4/ip_unprivileged_port_start", "0");
    Ok(fd)
}

/// The veth pair (two hosts) or the bridge and its ports (more), made from the sandbox's
/// namespace with each host's end created straight into its namespace.
fn link(hosts: &[HostPlan], netns: &[OwnedFd]) -> std::io::Result<()> {
    let nl = Netlink::open()?;
    let end = |h: &HostPlan, fd: &OwnedFd| -> std::io::Result<LinkMessage> {
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(HOST_IFACE.into()));
        m.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        m.attributes
            .push(LinkAttribute::Address(parse_mac(&h.mac)?));
        Ok(m)
    };
    let veth = |mut outer: LinkMessage, peer: LinkMessage| {
        outer.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        outer
    };
    if let ([a, b], [fa, fb]) = (hosts, netns) {
        return nl.request(RouteNetlinkMessage::NewLink(veth(end(a, fa)?, end(b, fb)?)));
    }
    let mut bridge = LinkMessage::default();
    bridge.attributes.push(LinkAttribute::IfName(BRIDGE.into()));
    bridge
        .attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    nl.request(RouteNetlinkMessage::NewLink(bridge))?;
    disable_ipv6(BRIDGE);
    let br = nix::net::if_::if_nametoindex(BRIDGE)?;
    for (i, (h, fd)) in hosts.iter().zip(netns).enumerate() {
        let port = format!("veth{i}");
        let mut outer = LinkMessage::default();
        outer.attributes.push(LinkAttribute::IfName(port.clone()));
        outer.attributes.push(LinkAttribute::Controller(br));
        nl.request(RouteNetlinkMessage::NewLink(veth(outer, end(h, fd)?)))?;
        disable_ipv6(&port);
        crate::capture::set_link_up(&port).map_err(std::io::Error::other)?;
    }
    crate::capture::set_link_up(BRIDGE).map_err(std::io::Error::other)
}

/// The bridge and its ports carry frames, they are nobody's address: no IPv6 chatter from them.
fn disable_ipv6(iface: &str) {
    let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{iface}/disable_ipv6"), "1");
}

/// Inside host `h`'s namespace: its address on `eth0`, `eth0` up, and a route to each other
/// host its /24 does not cover.
fn configure(h: &HostPlan, hosts: &[HostPlan]) -> std::io::Result<()> {
    let nl = Netlink::open()?;
    let index = nix::net::if_::if_nametoindex(HOST_IFACE)?;
    let addr: Ipv4Addr = h.addr.parse().map_err(std::io::Error::other)?;
    let mut m = AddressMessage::default();
    m.header.family = AddressFamily::Inet;
    m.header.prefix_len = 24;
    m.header.index = index;
    m.attributes.push(AddressAttribute::Local(IpAddr::V4(addr)));
    m.attributes
        .push(AddressAttribute::Address(IpAddr::V4(addr)));
    nl.request(RouteNetlinkMessage::NewAddress(m))?;
    crate::capture::set_link_up(HOST_IFACE).map_err(std::io::Error::other)?;
    for other in hosts.iter().filter(|o| o.name != h.name) {
        let to: Ipv4Addr = other.addr.parse().map_err(std::io::Error::other)?;
        if to.octets()[..3] == addr.octets()[..3] {
            continue;
        }
        let mut r = RouteMessage::default();
        r.header.address_family = AddressFamily::Inet;
        r.header.destination_prefix_length = 32;
        r.header.table = libc::RT_TABLE_MAIN;
        r.header.protocol = RouteProtocol::Static;
        r.header.scope = RouteScope::Link;
        r.header.kind = RouteType::Unicast;
        r.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(to)));
        r.attributes.push(RouteAttribute::Oif(index));
        nl.request(RouteNetlinkMessage::NewRoute(r))?;
    }
    Ok(())
}

/// `02:53:4c:00:00:01` as bytes.
fn parse_mac(text: &str) -> std::io::Result<Vec<u8>> {
    let bytes: Result<Vec<u8>, _> = text.split(':').map(|b| u8::from_str_radix(b, 16)).collect();
    match bytes {
        Ok(b) if b.len() == 6 => Ok(b),
        _ => Err(std::io::Error::other(format!("{text:?} is no MAC address"))),
    }
}

/// A NETLINK_ROUTE socket of the calling thread's network namespace.
struct Netlink(Socket);

impl Netlink {
    fn open() -> std::io::Result<Netlink> {
        let mut s = Socket::new(NETLINK_ROUTE)?;
        s.bind_auto()?;
        s.connect(&SocketAddr::new(0, 0))?;
        Ok(Netlink(s))
    }

    /// Sends one request that creates something and waits for the kernel's answer.
    fn request(&self, msg: RouteNetlinkMessage) -> std::io::Result<()> {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        header.sequence_number = 1;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.0.send(&buf, 0)?;
        let mut answer = Vec::with_capacity(8192);
        loop {
            answer.clear();
            self.0.recv(&mut answer, 0)?;
            let mut at = 0;
            while at < answer.len() {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&answer[at..])
                    .map_err(std::io::Error::other)?;
                let len = reply.header.length as usize;
                match reply.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(()),
                            Some(_) => Err(e.to_io()),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(()),
                    _ => {}
                }
                if len == 0 {
                    break;
                }
                at += len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_are_parsed_and_checked() {
        assert_eq!(
            parse_mac("02:53:4c:00:00:0a").unwrap(),
            vec![2, 0x53, 0x4c, 0, 0, 10]
        );
        assert!(parse_mac("02:53:4c:00:00").is_err());
        assert!(parse_mac("zz:53:4c:00:00:01").is_err());
    }
}
