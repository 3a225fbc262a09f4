//! Check kinds: one file per kind, and the registry that makes them the scenario format's
//! `checks` and the plan's check kinds.
//!
//! Each kind's file holds everything about it, in the order a check lives through:
//!
//! 1. its scenario-facing struct (`Spec`): serde mirrors the JSON exactly (`deny_unknown_fields`,
//!    no `flatten`, which would silence unknown fields), and its doc comments become the JSON
//!    Schema's descriptions, so they are user docs;
//! 2. its resolved plan (`Plan`), serialized to the sandbox child with the rest of the plan;
//! 3. `resolve`, from the first to the second, through [`CheckCx`]: program lookup by name,
//!    placeholder substitution, which way a `from`/`to` pair points, every problem reported at
//!    its JSON path (`checks[2].tcp_payload.regex`);
//! 4. for wire kinds, `describe` (the expectation in words, the default title);
//! 5. `grade`: evidence kinds grade a [`RunView`] (the plan and this run's evidence, e.g. a
//!    program's exit or a peer's record), wire kinds grade the [`Analysis`] of a capture
//!    (this run's, or a student's own in `socklab verify`).
//!
//! The common envelope (`points`, `title`) is read through [`Envelope`]; the defaults (one
//! point; the description as the title) are applied here, once for every kind.
//!
//! # How to add a check kind
//!
//! 1. Write `src/check/kinds/<name>.rs`: a `Spec` struct with `points` and `title` among its
//!    fields (`envelope!(Spec)` implements [`Envelope`]), a `Plan` type, and a unit struct
//!    implementing [`EvidenceCheck`] (graded from the run's evidence) or [`WireCheck`] (graded
//!    from a capture; its `Plan` holds only its own fields: the service port and program
//!    names are the shared [`WireExpect`]). Put its unit tests beside it.
//! 2. Add `mod <name>;` and one line to the `registry!` invocation below, in the `evidence`
//!    or `wire` list: its doc comment (the description the schema gives the variant) and
//!    `VariantName => <name>::Kind`. The variant's snake_case name is the kind's name in the
//!    scenario format and must equal the kind's `NAME` (a unit test checks this).
//! 3. `cargo run -- schema > schema/scenario.schema.json`, and document the kind in
//!    `docs/scenarios.md`.

/// Implements [`Envelope`] for scenario structs with `points` and `title` fields.
macro_rules! envelope {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::check::kinds::Envelope for $t {
            fn points(&self) -> Option<u32> {
                self.points
            }
            fn title(&self) -> Option<&str> {
                self.title.as_deref()
            }
        })*
    };
}

mod arp_resolution;
mod blocked;
mod broadcast;
mod datetime_reply;
mod exit;
mod http_response;
mod icmp_port_unreachable;
mod no_tcp_handshake;
mod origin_requests;
pub(crate) mod output;
mod packet_gap;
mod running;
mod smtp_dialogue;
mod tcp_concurrent;
mod tcp_connections;
mod tcp_fin_teardown;
mod tcp_handshake;
mod tcp_payload;
mod tcp_refused;
mod udp_datagrams;

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Graded;
use crate::analysis::Analysis;
use crate::check::wire::WireGraded;
use crate::evidence::{Evidence, ProgramEvidence};
use crate::plan::{CheckCx, CheckPlan, PayloadMatcher, Plan, WireExpect};

/// The fields every check has in the scenario format.
pub(crate) trait Envelope {
    /// Points the file gives the check. Default: 1.
    fn points(&self) -> Option<u32>;
    /// Human label the file gives the check. Default: the kind's description.
    fn title(&self) -> Option<&str>;
}

/// A check graded from the run's evidence (a program's exit, output, state; a peer's record).
pub(crate) trait EvidenceCheck {
    /// The kind's name in the scenario format (`exit`).
    const NAME: &'static str;
    /// Whether grading needs the programs' end state measured after they settle (`blocked`).
    const NEEDS_QUIESCENCE: bool = false;
    /// The scenario-facing fields.
    type Spec: Envelope;
    /// The resolved check, sent to the sandbox with the plan.
    type Plan;
    /// The plan and the default title, or `None` after reporting the problems to `cx`.
    fn resolve(spec: &Self::Spec, cx: &mut CheckCx<'_, '_>) -> Option<(Self::Plan, String)>;
    /// The verdict from the evidence alone.
    fn grade(plan: &Self::Plan, run: &RunView<'_>) -> Graded;
    /// Why socklab cannot grade this run (its own peer did not run, or left a record it cannot
    /// read): a harness error, never the student's loss nor a pass. Default: it always can.
    fn unjudged(_plan: &Self::Plan, _run: &RunView<'_>) -> Option<String> {
        None
    }
}

/// A check graded from a capture's analysis.
pub(crate) trait WireCheck {
    /// The kind's name in the scenario format (`tcp_handshake`).
    const NAME: &'static str;
    /// Whether the check follows a server that listened on another port than assigned (see
    /// `wire::ServerPorts`). A refusal is the client's experience: judged wherever it went.
    const FOLLOWS_MOVED_SERVER: bool = true;
    /// The scenario-facing fields.
    type Spec: Envelope;
    /// The kind's own resolved fields; the port and the program names are in [`WireExpect`].
    type Plan;
    /// The two sides and the plan, or `None` after reporting the problems to `cx`.
    fn resolve(spec: &Self::Spec, cx: &mut CheckCx<'_, '_>) -> Option<Sides<Self::Plan>>;
    /// The expectation in words, e.g. `client's SYN to port 40123 is answered by RST`.
    fn describe(e: &WireExpect, plan: &Self::Plan) -> String;
    /// The verdict at `e.port`, with the packets that show it.
    fn grade(e: &WireExpect, plan: &Self::Plan, a: &Analysis) -> WireGraded;
    /// The condition that stands for a line typed into the client, which `socklab verify`
    /// replaces (it cannot know what a student typed into their own client).
    fn typed_line(_plan: &mut Self::Plan) -> Option<&mut PayloadMatcher> {
        None
    }
}

/// What a wire check resolves to before its service program becomes a port.
pub(crate) struct Sides<P> {
    /// Program whose port is the service port.
    pub server: String,
    /// The other program (messages only).
    pub client: String,
    pub plan: P,
}

/// What an evidence kind grades: the plan and this run's evidence.
pub(crate) struct RunView<'a> {
    pub plan: &'a Plan,
    pub evidence: &'a Evidence,
}

impl RunView<'_> {
    /// A program's name and evidence (empty when the run recorded none, e.g. never run).
    pub(crate) fn program(&self, p: usize) -> (&str, Cow<'_, ProgramEvidence>) {
        let name = self.plan.programs[p].name.as_str();
        let ev = self
            .evidence
            .programs
            .get(p)
            .map_or_else(|| Cow::Owned(ProgramEvidence::default()), Cow::Borrowed);
        (name, ev)
    }
}

fn resolve_evidence<K: EvidenceCheck>(
    spec: &K::Spec,
    cx: &mut CheckCx<'_, '_>,
    wrap: fn(K::Plan) -> CheckKind,
) -> Option<CheckPlan> {
    let (plan, default_title) = K::resolve(spec, cx)?;
    Some(CheckPlan {
        title: spec.title().map_or(default_title, str::to_string),
        points: spec.points().unwrap_or(1),
        kind: wrap(plan),
    })
}

fn resolve_wire<K: WireCheck>(
    spec: &K::Spec,
    cx: &mut CheckCx<'_, '_>,
    wrap: fn(K::Plan) -> WireKind,
) -> Option<CheckPlan> {
    let Sides {
        server,
        client,
        plan,
    } = K::resolve(spec, cx)?;
    let expect = cx.wire_expect(server, client, wrap(plan))?;
    Some(CheckPlan {
        title: spec
            .title()
            .map_or_else(|| expect.describe(), str::to_string),
        points: spec.points().unwrap_or(1),
        kind: CheckKind::Wire(expect),
    })
}

/// Generates, from one list of kinds, the scenario's [`Check`], the plan's [`CheckKind`] and
/// [`WireKind`], and their dispatch.
macro_rules! registry {
    (
        evidence { $( $(#[$edoc:meta])* $E:ident => $ek:ty, )* }
        wire { $( $(#[$wdoc:meta])* $W:ident => $wk:ty, )* }
    ) => {
        /// An assertion over the run, evaluated after the last step, before programs are stopped.
        #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case", deny_unknown_fields)]
        pub(crate) enum Check {
            $( $(#[$edoc])* $E(<$ek as EvidenceCheck>::Spec), )*
            $( $(#[$wdoc])* $W(<$wk as WireCheck>::Spec), )*
        }

        impl Check {
            /// The kind's name in the scenario format.
            pub(crate) fn name(&self) -> &'static str {
                match self {
                    $( Check::$E(_) => <$ek as EvidenceCheck>::NAME, )*
                    $( Check::$W(_) => <$wk as WireCheck>::NAME, )*
                }
            }

            /// The fields every kind has.
            pub(crate) fn envelope(&self) -> &dyn Envelope {
                match self {
                    $( Check::$E(s) => s, )*
                    $( Check::$W(s) => s, )*
                }
            }

            /// The check resolved for a plan, or `None` after reporting why to `cx`.
            pub(crate) fn resolve(&self, cx: &mut CheckCx<'_, '_>) -> Option<CheckPlan> {
                match self {
                    $( Check::$E(s) => resolve_evidence::<$ek>(s, cx, CheckKind::$E), )*
                    $( Check::$W(s) => resolve_wire::<$wk>(s, cx, WireKind::$W), )*
                }
            }
        }

        /// A resolved check.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub(crate) enum CheckKind {
            $( $E(<$ek as EvidenceCheck>::Plan), )*
            /// A wire check: graded from the capture, not from a program's evidence.
            Wire(WireExpect),
        }

        impl CheckKind {
            /// Whether the end-of-run state must wait for programs to settle.
            pub(crate) fn needs_quiescence(&self) -> bool {
                match self {
                    $( CheckKind::$E(_) => <$ek as EvidenceCheck>::NEEDS_QUIESCENCE, )*
                    CheckKind::Wire(_) => false,
                }
            }

            /// An evidence check's name and verdict; `None` for a wire check.
            pub(crate) fn grade_evidence(&self, run: &RunView<'_>) -> Option<(&'static str, Graded)> {
                match self {
                    $( CheckKind::$E(p) => {
                        Some((<$ek as EvidenceCheck>::NAME, <$ek as EvidenceCheck>::grade(p, run)))
                    } )*
                    CheckKind::Wire(_) => None,
                }
            }

            /// See [`EvidenceCheck::unjudged`]; `None` for a wire check.
            pub(crate) fn unjudged_evidence(&self, run: &RunView<'_>) -> Option<String> {
                match self {
                    $( CheckKind::$E(p) => <$ek as EvidenceCheck>::unjudged(p, run), )*
                    CheckKind::Wire(_) => None,
                }
            }
        }

        /// A wire check's own resolved fields, by kind.
        #[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
        #[serde(rename_all = "snake_case")]
        pub(crate) enum WireKind {
            $( $W(<$wk as WireCheck>::Plan), )*
        }

        impl WireKind {
            /// The check's name in the scenario format.
            pub(crate) fn name(&self) -> &'static str {
                match self {
                    $( WireKind::$W(_) => <$wk as WireCheck>::NAME, )*
                }
            }

            /// See [`WireCheck::FOLLOWS_MOVED_SERVER`].
            pub(crate) fn follows_moved_server(&self) -> bool {
                match self {
                    $( WireKind::$W(_) => <$wk as WireCheck>::FOLLOWS_MOVED_SERVER, )*
                }
            }

            pub(crate) fn describe(&self, e: &WireExpect) -> String {
                match self {
                    $( WireKind::$W(p) => <$wk as WireCheck>::describe(e, p), )*
                }
            }

            /// The verdict at `e.port` (`e.kind` is `self`).
            pub(crate) fn grade(&self, e: &WireExpect, a: &Analysis) -> WireGraded {
                match self {
                    $( WireKind::$W(p) => <$wk as WireCheck>::grade(e, p, a), )*
                }
            }

            /// See [`WireCheck::typed_line`].
            pub(crate) fn typed_line(&mut self) -> Option<&mut PayloadMatcher> {
                match self {
                    $( WireKind::$W(p) => <$wk as WireCheck>::typed_line(p), )*
                }
            }
        }

        /// The names of the kinds graded from a capture (reports cite their packets).
        pub(crate) const WIRE_NAMES: &[&str] = &[ $( <$wk as WireCheck>::NAME, )* ];

        #[cfg(test)]
        /// Every kind's `NAME`, in registry order.
        pub(crate) const NAMES: &[&str] = &[
            $( <$ek as EvidenceCheck>::NAME, )*
            $( <$wk as WireCheck>::NAME, )*
        ];
    };
}

registry! {
    evidence {
        /// The program's exit status.
        Exit => exit::Kind,
        /// The program's whole output matches (or does not).
        Output => output::Kind,
        /// The program is still running at the end of the steps.
        Running => running::Kind,
        /// The program is still running and blocked (waiting for input) at the end of the steps.
        Blocked => blocked::Kind,
        /// From socklab's origin server's own record: how many times the `http-origin` peer
        /// `program` was asked for `path` (a caching proxy asks once for two clients).
        OriginRequests => origin_requests::Kind,
        /// Every message typed into one client of `programs` (the lines a `write` step types
        /// that match `messages`) shows exactly once, on one line of output, on every other
        /// client: a chat room's broadcast, read on what each user sees, whatever the room's
        /// own protocol. The sender's own output is not judged.
        Broadcast => broadcast::Kind,
    }
    wire {
        /// On the wire: a TCP connection from `client` to `server` completed the three-way
        /// handshake (SYN, SYN-ACK, ACK).
        TcpHandshake => tcp_handshake::Kind,
        /// On the wire: the client's SYN was answered by a RST (connection refused), on the port it
        /// was given or wherever else it connected: whether a program uses the assigned port is
        /// judged by the steps (`wait_ready`, `expect_*`), not charged to this check as well.
        TcpRefused => tcp_refused::Kind,
        /// On the wire: the TCP payload sent from `from` to `to` (each connection to the server
        /// port alone, in order) contains a text, matches a regex, equals bytes, or stands in a
        /// relation to the request (`uppercase_of_request`).
        TcpPayload => tcp_payload::Kind,
        /// On the wire: a TCP connection between `client` and `server` ended with a FIN each way
        /// (and no RST).
        TcpFinTeardown => tcp_fin_teardown::Kind,
        /// On the wire: no TCP connection to `program`'s port completed a handshake.
        NoTcpHandshake => no_tcp_handshake::Kind,
        /// On the wire: UDP datagrams from `from` to `to`: how many, and what one of them holds.
        UdpDatagrams => udp_datagrams::Kind,
        /// On the wire: an ICMP (or ICMPv6) port unreachable error quoting a datagram sent to
        /// `program`'s port or, as for `tcp_refused`, to whatever other port the client sent it
        /// (the result names that port).
        IcmpPortUnreachable => icmp_port_unreachable::Kind,
        /// On the wire: the number of TCP connections (streams) to `program`'s port, e.g. how many
        /// times a proxy contacted the origin server.
        TcpConnections => tcp_connections::Kind,
        /// On the wire: `program` (a server) served TCP connections at the same time: at least
        /// `count` were answered, and one opened later was answered while one opened earlier was
        /// still open and unanswered, which a server that serves one connection at a time (and
        /// accepts in order) cannot do. Decided by packet order, never by a clock.
        TcpConcurrent => tcp_concurrent::Kind,
        /// On the wire: every time gap between consecutive payload-carrying packets from `from` to
        /// `to` lies within `[min_ms, max_ms]` (at least two such packets).
        PacketGap => packet_gap::Kind,
        /// On the wire: the HTTP response `from` (the server) sent `to` on a connection to the
        /// server's port, parsed from the reassembled stream: its status code, headers it must
        /// carry, and a body equal to a lab document byte for byte (`body_file`) or containing a
        /// text (`body_contains`).
        HttpResponse => http_response::Kind,
        /// On the wire: one aspect of the SMTP dialogue between the mail client `from` and the
        /// mail server `to` (their TCP connection, read as a server reads it): the commands in
        /// order, speaking only after the greeting, CRLF line ends, the final `.`, the message
        /// intact.
        SmtpDialogue => smtp_dialogue::Kind,
        /// On the wire: each UDP answer `from` (a date/time server) sent to `request` from `to`
        /// is the current date, the current time as `HH:MM:SS`, or an error message, judged
        /// against the answer's own timestamp in the zone of the server's `TZ`.
        DatetimeReply => datetime_reply::Kind,
        /// On the wire, between two computers of a topology (`hosts`): `from`'s computer asks by
        /// ARP who has `to`'s address, and `to`'s computer answers with its own MAC address,
        /// distinct from the asker's.
        ArpResolution => arp_resolution::Kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_named_in_the_file_as_its_name_says() {
        let schema = serde_json::to_value(schemars::schema_for!(Check)).unwrap();
        let variants = schema["oneOf"].as_array().expect("Check is a oneOf");
        let in_schema: Vec<&str> = variants
            .iter()
            .map(|v| v["required"][0].as_str().expect("a tagged variant"))
            .collect();
        assert_eq!(in_schema, NAMES);
    }
}
