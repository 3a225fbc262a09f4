//! Reference implementations of the labs' programs, one module per lab, and the role registry.
//!
//! A *role* is one program of a lab (`tcp-upper-server`, ...). Scenarios name roles, never files;
//! the registry below is the single source of truth for which roles exist, which lab they belong
//! to, their calling convention, and the conventional file names a submission may use for them.
//! Reference programs use `std::net` only and follow LABS.md's calling conventions exactly, so a
//! student can test a client against `socklab ref tcp-upper-server 127.0.0.1 12000`.

pub(crate) mod hello;
pub(crate) mod http;
pub(crate) mod proxy;
pub(crate) mod smtp;
pub(crate) mod upper;
pub(crate) mod web;

/// One role of a lab.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Role {
    /// Role name as scenarios and manifests spell it.
    pub name: &'static str,
    /// Lab the role belongs to.
    pub lab: &'static str,
    /// Calling convention, e.g. `HOST PORT` (arguments after the program name).
    pub usage: &'static str,
    /// One line saying what the program does.
    pub summary: &'static str,
    /// Conventional file stems, normalized (lowercase, without `_`, `-`, spaces and digits), that
    /// bind a submission's file to this role, e.g. `tcpserver` for `TCPServer.py`/`tcp_server.py`.
    pub stems: &'static [&'static str],
    /// Transport the role listens on or talks over.
    pub transport: Transport,
    /// The reference implementation: arguments after the role name; returns the exit code.
    pub main: fn(&[String]) -> i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    /// `tcp` / `udp`, as a socket record names it (and as serialized).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// Every lab, in catalog order: (name, one-line description).
pub(crate) const LABS: &[(&str, &str)] = &[
    ("upper", "uppercase converter over TCP and UDP"),
    (
        "hello",
        "the template programs: UDP joke and TCP knock-knock",
    ),
    ("web", "web server and client over HTTP/1.1"),
    ("proxy", "multi-threaded caching web proxy"),
    ("smtp", "mail client speaking SMTP to a strict server"),
];

/// Every role of every lab.
pub(crate) const ROLES: &[Role] = &[
    Role {
        name: "tcp-upper-server",
        lab: "upper",
        usage: "HOST PORT",
        summary: "accepts TCP connections one after another; answers each line in uppercase",
        stems: &["tcpserver", "tcpupperserver", "tcpuppercaseserver"],
        transport: Transport::Tcp,
        main: upper::tcp_server,
    },
    Role {
        name: "tcp-upper-client",
        lab: "upper",
        usage: "HOST PORT",
        summary: "reads one line on stdin, sends it over TCP, prints the reply",
        stems: &["tcpclient", "tcpupperclient", "tcpuppercaseclient"],
        transport: Transport::Tcp,
        main: upper::tcp_client,
    },
    Role {
        name: "udp-upper-server",
        lab: "upper",
        usage: "HOST PORT",
        summary: "answers each UDP datagram with its uppercase",
        stems: &["udpserver", "udpupperserver", "udpuppercaseserver"],
        transport: Transport::Udp,
        main: upper::udp_server,
    },
    Role {
        name: "udp-upper-client",
        lab: "upper",
        usage: "HOST PORT",
        summary: "reads one line on stdin, sends it in one UDP datagram, prints the reply",
        stems: &["udpclient", "udpupperclient", "udpuppercaseclient"],
        transport: Transport::Udp,
        main: upper::udp_client,
    },
    Role {
        name: "udp-hello-server",
        lab: "hello",
        usage: "HOST PORT",
        summary: "prints each UDP datagram it receives and replies `Ok`",
        stems: &["udpserver", "udphelloserver"],
        transport: Transport::Udp,
        main: hello::udp_server,
    },
    Role {
        name: "udp-hello-client",
        lab: "hello",
        usage: "HOST PORT",
        summary: "sends a one-line joke over UDP and prints the reply",
        stems: &["udpclient", "udphelloclient"],
        transport: Transport::Udp,
        main: hello::udp_client,
    },
    Role {
        name: "tcp-hello-server",
        lab: "hello",
        usage: "HOST PORT",
        summary: "accepts a TCP connection, prints `Knock Knock..`, answers `Whose there?`",
        stems: &["tcpserver", "tcphelloserver"],
        transport: Transport::Tcp,
        main: hello::tcp_server,
    },
    Role {
        name: "tcp-hello-client",
        lab: "hello",
        usage: "HOST PORT",
        summary: "connects over TCP, sends `Knock Knock..`, prints the answer",
        stems: &["tcpclient", "tcphelloclient"],
        transport: Transport::Tcp,
        main: hello::tcp_client,
    },
    Role {
        name: "web-server",
        lab: "web",
        usage: "HOST PORT",
        summary: "serves the files of its working directory over HTTP, a thread per connection",
        stems: &["webserver", "httpserver"],
        transport: Transport::Tcp,
        main: web::web_server,
    },
    Role {
        name: "web-client",
        lab: "web",
        usage: "HOST PORT FILE",
        summary: "sends `GET /FILE` and prints the whole response",
        stems: &["webclient", "httpclient"],
        transport: Transport::Tcp,
        main: web::web_client,
    },
    Role {
        name: "proxy",
        lab: "proxy",
        usage: "HOST PORT",
        summary: "forwards GET requests to their origin and caches complete 200 responses",
        stems: &[
            "proxy",
            "proxyserver",
            "webproxy",
            "cachingproxy",
            "proxycache",
        ],
        transport: Transport::Tcp,
        main: proxy::proxy,
    },
    Role {
        name: "mail-client",
        lab: "smtp",
        usage: "SERVER PORT FROM TO",
        summary: "delivers the message on stdin over SMTP, checking every reply code",
        stems: &["mailclient", "smtpclient", "smtp", "mail"],
        transport: Transport::Tcp,
        main: smtp::mail_client,
    },
];

/// The role named `name`, if any.
pub(crate) fn role(name: &str) -> Option<&'static Role> {
    ROLES.iter().find(|r| r.name == name)
}
