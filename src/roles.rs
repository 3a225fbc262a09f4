//! The role registry: which labs exist, the roles each one has, how each role is called, and
//! which file names a submission may use for it.
//!
//! A *role* is one program of a lab (`tcp-upper-server`, `web-client`, ...). Scenarios name roles,
//! never files; this registry is the single source of truth for which roles exist, which lab they
//! belong to, their typed parameters (`HOST PORT FILE`), and the conventional file stems that bind
//! a submission's file to them. The reference implementations live apart, in [`crate::labs`]:
//! planning and grading read this registry, never the programs.

use crate::labs;

/// One parameter of a role's calling convention, bound by name: scenarios pass it by position
/// in `args`, manifests place it anywhere as `{NAME}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Param {
    /// Placeholder name in manifests: `host`, `port`, `file`, `from`, `to`.
    pub name: &'static str,
    /// As usage lines write it: `HOST`, `PORT`, `FILE`.
    pub usage: &'static str,
    /// What a scenario passes when it gives no `args`; `None`: the scenario must give it,
    /// unless the parameter is optional.
    pub default: Option<&'static str>,
    /// May be left out (only at the end of the calling convention): usage lines write it in
    /// brackets (`[COUNT]`), and a scenario without `args` does not pass it.
    pub optional: bool,
}

/// The address a server binds or a client connects to.
const HOST: Param = Param {
    name: "host",
    usage: "HOST",
    default: Some("{server_addr}"),
    optional: false,
};
/// The mail server a mail client connects to (a HOST by another name).
const SERVER: Param = Param {
    name: "server",
    usage: "SERVER",
    default: Some("{server_addr}"),
    optional: false,
};
/// The port the harness chose for this run.
const PORT: Param = Param {
    name: "port",
    usage: "PORT",
    default: Some("{port}"),
    optional: false,
};
/// The file a web client asks for.
const FILE: Param = Param {
    name: "file",
    usage: "FILE",
    default: None,
    optional: false,
};
/// The envelope sender of a mail client.
const FROM: Param = Param {
    name: "from",
    usage: "FROM",
    default: None,
    optional: false,
};
/// The envelope recipient of a mail client.
const TO: Param = Param {
    name: "to",
    usage: "TO",
    default: None,
    optional: false,
};
/// How many requests a date/time client sends; left out: the client's own default.
const COUNT: Param = Param {
    name: "count",
    usage: "COUNT",
    default: None,
    optional: true,
};
/// `HOST PORT`: the calling convention of most roles.
const HOST_PORT: &[Param] = &[HOST, PORT];

/// One role of a lab.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Role {
    /// Role name as scenarios and manifests spell it.
    pub name: &'static str,
    /// Lab the role belongs to.
    pub lab: &'static str,
    /// Calling convention: the arguments after the program name, in order.
    pub params: &'static [Param],
    /// One line saying what the program does.
    pub summary: &'static str,
    /// Conventional file stems, normalized (lowercase, without `_`, `-`, spaces and digits), that
    /// bind a submission's file to this role, e.g. `tcpserver` for `TCPServer.py`/`tcp_server.py`.
    pub stems: &'static [&'static str],
    /// A conventional file name, as the handouts spell it, for messages (`TCPServer.py`).
    pub example: &'static str,
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
    ("datetime", "UDP date and time service: stateless requests"),
    (
        "calc",
        "TCP calculator session: stateful, a name and then expressions",
    ),
    ("web", "web server and client over HTTP/1.1"),
    ("proxy", "multi-threaded caching web proxy"),
    ("smtp", "mail client speaking SMTP to a strict server"),
    ("chat", "multi-client chat room over TCP"),
];

/// A lab option: a choice a submission makes for the whole lab in its manifest
/// (`"options": {"request_form": "skeleton"}`), which scenarios read as the placeholder
/// `{NAME}` (e.g. in the arguments of the peer that talks to the student's program).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabOption {
    pub lab: &'static str,
    /// Option and placeholder name.
    pub name: &'static str,
    /// The values it may take; the first is the default.
    pub values: &'static [&'static str],
    /// What it chooses, for `socklab list` and error messages.
    pub summary: &'static str,
}

/// Every lab option.
pub(crate) const OPTIONS: &[LabOption] = &[LabOption {
    lab: "proxy",
    name: "request_form",
    values: &["absolute", "skeleton"],
    summary: "how clients name the object they ask the proxy for: `GET http://host:port/path` \
              (absolute, as curl -x and browsers send) or `GET /host:port/path` (the textbook \
              skeleton's)",
}];

/// The option named `name`, if any.
pub(crate) fn option(name: &str) -> Option<&'static LabOption> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Every role of every lab.
pub(crate) const ROLES: &[Role] = &[
    Role {
        name: "tcp-upper-server",
        lab: "upper",
        params: HOST_PORT,
        summary: "accepts TCP connections one after another; answers each line in uppercase",
        stems: &["tcpserver", "tcpupperserver", "tcpuppercaseserver"],
        example: "TCPServer.py",
        transport: Transport::Tcp,
        main: labs::upper::tcp_server,
    },
    Role {
        name: "tcp-upper-client",
        lab: "upper",
        params: HOST_PORT,
        summary: "reads one line on stdin, sends it over TCP, prints the reply",
        stems: &["tcpclient", "tcpupperclient", "tcpuppercaseclient"],
        example: "TCPClient.py",
        transport: Transport::Tcp,
        main: labs::upper::tcp_client,
    },
    Role {
        name: "udp-upper-server",
        lab: "upper",
        params: HOST_PORT,
        summary: "answers each UDP datagram with its uppercase",
        stems: &["udpserver", "udpupperserver", "udpuppercaseserver"],
        example: "UDPServer.py",
        transport: Transport::Udp,
        main: labs::upper::udp_server,
    },
    Role {
        name: "udp-upper-client",
        lab: "upper",
        params: HOST_PORT,
        summary: "reads one line on stdin, sends it in one UDP datagram, prints the reply",
        stems: &["udpclient", "udpupperclient", "udpuppercaseclient"],
        example: "UDPClient.py",
        transport: Transport::Udp,
        main: labs::upper::udp_client,
    },
    Role {
        name: "udp-hello-server",
        lab: "hello",
        params: HOST_PORT,
        summary: "prints each UDP datagram it receives and replies `Ok`",
        stems: &["udpserver", "udphelloserver"],
        example: "UDPHelloServer.py",
        transport: Transport::Udp,
        main: labs::hello::udp_server,
    },
    Role {
        name: "udp-hello-client",
        lab: "hello",
        params: HOST_PORT,
        summary: "sends a one-line joke over UDP and prints the reply",
        stems: &["udpclient", "udphelloclient"],
        example: "UDPHelloClient.py",
        transport: Transport::Udp,
        main: labs::hello::udp_client,
    },
    Role {
        name: "tcp-hello-server",
        lab: "hello",
        params: HOST_PORT,
        summary: "accepts a TCP connection, prints `Knock Knock..`, answers `Whose there?`",
        stems: &["tcpserver", "tcphelloserver"],
        example: "TCPHelloServer.py",
        transport: Transport::Tcp,
        main: labs::hello::tcp_server,
    },
    Role {
        name: "tcp-hello-client",
        lab: "hello",
        params: HOST_PORT,
        summary: "connects over TCP, sends `Knock Knock..`, prints the answer",
        stems: &["tcpclient", "tcphelloclient"],
        example: "TCPHelloClient.py",
        transport: Transport::Tcp,
        main: labs::hello::tcp_client,
    },
    Role {
        name: "datetime-server",
        lab: "datetime",
        params: HOST_PORT,
        summary: "answers each UDP datagram: SEND_DATE with the date (YYYY-MM-DD), SEND_TIME \
                  with the time (HH:MM:SS), anything else with an error",
        stems: &[
            "datetimeserver",
            "udpdatetimeserver",
            "dateserver",
            "timeserver",
            "udpdateserver",
            "udptimeserver",
        ],
        example: "DateTimeServer.py",
        transport: Transport::Udp,
        main: labs::datetime::server,
    },
    Role {
        name: "datetime-client",
        lab: "datetime",
        params: &[HOST, PORT, COUNT],
        summary: "sends COUNT SEND_DATE/SEND_TIME requests 1-2 s apart, printing each answer",
        stems: &[
            "datetimeclient",
            "udpdatetimeclient",
            "dateclient",
            "timeclient",
            "udpdateclient",
            "udptimeclient",
        ],
        example: "DateTimeClient.py",
        transport: Transport::Udp,
        main: labs::datetime::client,
    },
    Role {
        name: "calc-server",
        lab: "calc",
        params: HOST_PORT,
        summary: "serves calculator sessions one after another: a name, then `A OP B` lines \
                  answered with the result, until `q`",
        stems: &[
            "calcserver",
            "calculatorserver",
            "tcpcalcserver",
            "tcpcalculatorserver",
            "arithmeticserver",
        ],
        example: "CalcServer.py",
        transport: Transport::Tcp,
        main: labs::calc::server,
    },
    Role {
        name: "calc-client",
        lab: "calc",
        params: HOST_PORT,
        summary: "reads a name, then expressions on stdin; sends the well-formed ones, prints \
                  each answer; `q` ends the session",
        stems: &[
            "calcclient",
            "calculatorclient",
            "tcpcalcclient",
            "tcpcalculatorclient",
            "arithmeticclient",
        ],
        example: "CalculatorClient.py",
        transport: Transport::Tcp,
        main: labs::calc::client,
    },
    Role {
        name: "web-server",
        lab: "web",
        params: HOST_PORT,
        summary: "serves the files of its working directory over HTTP, a thread per connection",
        stems: &["webserver", "httpserver"],
        example: "WebServer.py",
        transport: Transport::Tcp,
        main: labs::web::web_server,
    },
    Role {
        name: "web-client",
        lab: "web",
        params: &[HOST, PORT, FILE],
        summary: "sends `GET /FILE` and prints the whole response",
        stems: &["webclient", "httpclient"],
        example: "WebClient.py",
        transport: Transport::Tcp,
        main: labs::web::web_client,
    },
    Role {
        name: "proxy",
        lab: "proxy",
        params: HOST_PORT,
        summary: "forwards GET requests to their origin and caches complete 200 responses",
        stems: &[
            "proxy",
            "proxyserver",
            "webproxy",
            "cachingproxy",
            "proxycache",
        ],
        example: "ProxyServer.py",
        transport: Transport::Tcp,
        main: labs::proxy::proxy,
    },
    Role {
        name: "mail-client",
        lab: "smtp",
        params: &[SERVER, PORT, FROM, TO],
        summary: "delivers the message on stdin over SMTP, checking every reply code",
        stems: &["mailclient", "smtpclient", "smtp", "mail"],
        example: "MailClient.py",
        transport: Transport::Tcp,
        main: labs::smtp::mail_client,
    },
    Role {
        name: "chat-server",
        lab: "chat",
        params: HOST_PORT,
        summary: "a chat room: unique login names, joins, lines and leaves broadcast to everyone",
        stems: &["chatserver", "chatroomserver", "chatroom"],
        example: "ChatServer.py",
        transport: Transport::Tcp,
        main: labs::chat::chat_server,
    },
    Role {
        name: "chat-client",
        lab: "chat",
        params: HOST_PORT,
        summary: "sends a login name, then each line typed, then `quit`; prints what the room says",
        stems: &["chatclient", "chatroomclient"],
        example: "ChatClient.py",
        transport: Transport::Tcp,
        main: labs::chat::chat_client,
    },
];

/// The role named `name`, if any.
pub(crate) fn role(name: &str) -> Option<&'static Role> {
    ROLES.iter().find(|r| r.name == name)
}

impl Role {
    /// The calling convention as usage lines write it: `HOST PORT FILE`.
    pub(crate) fn usage(&self) -> String {
        self.params
            .iter()
            .map(|p| {
                if p.optional {
                    format!("[{}]", p.usage)
                } else {
                    p.usage.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
