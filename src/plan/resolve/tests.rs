//! Unit tests of the resolver.

use super::ports::PORTS;
use super::*;

#[test]
fn a_role_parameter_without_a_default_must_be_given_in_args() {
    let scenario = |args: &str| {
        format!(
            r#"{{ "id": "w", "lab": "web", "title": "t", "question": "q", "explanation": "e",
              "programs": [ {{ "name": "server", "role": "web-server" }},
                            {{ "name": "client", "role": "web-client" {args} }} ],
              "steps": [ {{ "start": {{ "program": "server" }} }},
                         {{ "wait_ready": {{ "program": "server" }} }},
                         {{ "start": {{ "program": "client" }} }} ] }}"#
        )
    };
    let err = resolve_text(scenario(""), 30_500).unwrap_err();
    assert!(
        err.contains(
            "role `web-client` is called with HOST PORT FILE: give `args` (FILE has no default)"
        ),
        "{err}"
    );
    let plan = resolve_text(
        scenario(r#", "args": ["{server_addr}", "{port}", "HelloWorld.html"]"#),
        30_500,
    )
    .unwrap();
    let client = plan.programs.iter().find(|p| p.name == "client").unwrap();
    assert_eq!(
        client.argv[client.argv.len() - 3..],
        ["127.0.0.1", "30500", "HelloWorld.html"]
    );
}

#[test]
fn a_peer_runs_as_socklab_peer_and_is_never_the_students() {
    let scenario = |program: &str| {
        format!(
            r#"{{ "id": "p", "lab": "web", "title": "t", "question": "q", "explanation": "e",
              "programs": [ {{ "name": "server", "role": "web-server" }}, {program} ],
              "steps": [ {{ "start": {{ "program": "server" }} }},
                         {{ "wait_ready": {{ "program": "server" }} }},
                         {{ "start": {{ "program": "idle" }} }} ] }}"#
        )
    };
    let plan = resolve_text(
        scenario(r#"{ "name": "idle", "peer": "idle-client" }"#),
        30_700,
    )
    .unwrap();
    let idle = plan.programs.iter().find(|p| p.name == "idle").unwrap();
    assert_eq!(
        idle.argv[1..],
        ["peer", "idle-client", "127.0.0.1", "30700"]
    );
    assert_eq!(
        idle.binding,
        Binding::Peer {
            name: "idle-client".into()
        }
    );
    assert_eq!(plan.steps[2].label, "start idle (peer idle-client)");
    let err = resolve_text(
        scenario(r#"{ "name": "idle", "peer": "idle-clint" }"#),
        30_700,
    )
    .unwrap_err();
    assert!(err.contains("unknown peer `idle-clint`"), "{err}");
    assert!(err.contains("idle-client"), "{err}");
    let err = resolve_text(
        scenario(r#"{ "name": "idle", "peer": "idle-client", "role": "web-client" }"#),
        30_700,
    )
    .unwrap_err();
    assert!(
        err.contains("needs exactly one of `role`, `peer` and `command`"),
        "{err}"
    );
}

#[test]
fn a_manifest_places_each_parameter_by_name() {
    let binding = RoleBinding {
        command: vec![
            "python3".into(),
            "mail.py".into(),
            "{to}".into(),
            "{server}:{port}".into(),
        ],
        stdin: vec!["{from}".into()],
        file: "mail.py".into(),
        source: RoleSource::Manifest,
    };
    let role = roles::role("mail-client").unwrap();
    let args: Vec<String> = ["192.0.2.1", "30600", "a@example.com", "b@example.net"]
        .map(String::from)
        .to_vec();
    let (argv, stdin, _) = bind_submission(&binding, &args, role);
    assert_eq!(
        argv,
        ["python3", "mail.py", "b@example.net", "192.0.2.1:30600"]
    );
    assert_eq!(stdin, ["a@example.com"]);
}

#[test]
fn assigned_ports_are_ones_wireshark_decodes_as_plain_tcp_and_udp() {
    let out = std::process::Command::new("tshark")
        .args(["-G", "decodes"])
        .output()
        .expect("tshark is needed (scripts/test.sh installs it)");
    assert!(out.status.success(), "tshark -G decodes failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let claimed: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            let mut f = line.split('\t');
            let table = f.next()?;
            let port: u16 = f.next()?.parse().ok()?;
            let ours = (table == "tcp.port" || table == "udp.port") && PORTS.contains(&port);
            ours.then_some(line)
        })
        .collect();
    assert!(text.lines().count() > 100, "tshark listed too few decodes");
    assert!(
        claimed.is_empty(),
        "tshark claims ports socklab may assign: {claimed:?}"
    );
    let names: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
    for seed in [1, 2, 0xdead_beef, u64::MAX] {
        assert!(choose_ports(&names, seed)
            .iter()
            .all(|p| PORTS.contains(&p.port)));
    }
}

/// Resolves a round trip whose checks are `checks` (JSON), the port at 30000.
fn resolve_checks(checks: &str) -> Result<Plan, String> {
    let text = format!(
        r#"{{
          "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
          "programs": [
            {{ "name": "server", "role": "udp-upper-server" }},
            {{ "name": "client", "role": "udp-upper-client" }}
          ],
          "steps": [
            {{ "start": {{ "program": "server" }} }},
            {{ "wait_ready": {{ "program": "server" }} }},
            {{ "start": {{ "program": "client" }} }},
            {{ "write": {{ "program": "client", "line": "hello, World" }} }}
          ],
          "checks": {checks}
        }}"#
    );
    resolve_text(text, 30_000)
}

#[test]
fn a_text_the_scenario_types_into_the_sender_is_the_typed_line() {
    let plan = resolve_checks(
        r#"[
          { "udp_datagrams": { "from": "client", "to": "server", "contains": "hello, World" } },
          { "udp_datagrams": { "from": "client", "to": "server", "contains": "hello" } },
          { "udp_datagrams": { "from": "server", "to": "client",
                               "relation": "uppercase_of_request" } }
        ]"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rules: Vec<Option<&PayloadRule>> = plan
        .checks
        .iter()
        .filter_map(CheckPlan::wire)
        .map(|e| match &e.kind {
            WireKind::UdpDatagrams(p) => p.rule.as_ref(),
            _ => None,
        })
        .collect();
    assert_eq!(
        rules,
        [
            Some(&PayloadRule::Matches(PayloadMatcher::TypedLine(Some(
                "hello, World".into()
            )))),
            // Part of the line is a condition of its own: kept as written.
            Some(&PayloadRule::Matches(PayloadMatcher::Contains(
                "hello".into()
            ))),
            Some(&PayloadRule::Relation(Relation::UppercaseOfRequest)),
        ]
    );
    assert!(plan
        .checks
        .iter()
        .filter_map(CheckPlan::wire)
        .any(WireExpect::has_typed_line));
}

#[test]
fn an_id_of_60_non_ascii_letters_is_refused_for_its_characters_not_its_length() {
    let id = format!("a{}", "é".repeat(59));
    assert_eq!(
        id_problem(&id),
        Some("may hold only letters, digits, `-`, `_` and `.` (no `/`, spaces or line breaks)")
    );
    assert_eq!(
        id_problem(&"a".repeat(101)),
        Some("is longer than 100 characters")
    );
    assert_eq!(id_problem(&"a".repeat(100)), None);
}

#[test]
fn a_wire_check_weighing_too_many_points_is_located() {
    let Err(text) = resolve_checks(
        r#"[{ "udp_datagrams": { "from": "client", "to": "server", "points": 1001 } }]"#,
    ) else {
        panic!("1001 points resolved");
    };
    assert!(
        text.contains("1001 points is more than any check may weigh (1000 at most)")
            && text.contains("checks[0].udp_datagrams.points"),
        "{text}"
    );
}

#[test]
fn a_relation_is_on_the_servers_reply_and_alone() {
    for (checks, says) in [
        (
            r#"[{ "tcp_payload": { "from": "client", "to": "server",
                                    "relation": "uppercase_of_request" } }]"#,
            "a relation judges the server's reply, but `client` is not the server",
        ),
        (
            r#"[{ "tcp_payload": { "from": "server", "to": "client", "contains": "A",
                                    "relation": "uppercase_of_request" } }]"#,
            "give exactly one payload condition, not 2",
        ),
        (
            r#"[{ "udp_datagrams": { "from": "server", "to": "client", "contains": "A",
                                      "relation": "uppercase_of_request" } }]"#,
            "give `contains` or `relation`, not both",
        ),
        (
            r#"[{ "udp_datagrams": { "from": "server", "to": "client", "count": 0,
                                      "relation": "uppercase_of_request" } }]"#,
            "a relation judges replies, but `count: 0` says there are none",
        ),
        (
            r#"[{ "udp_datagrams": { "from": "server", "to": "client",
                                      "relation": "lowercase_of_request" } }]"#,
            "unknown variant `lowercase_of_request`",
        ),
    ] {
        let Err(text) = resolve_checks(checks) else {
            panic!("{checks} resolved");
        };
        assert!(text.contains(says), "{checks}: {text}");
    }
}

/// A round trip with `limits` on the scenario and `server_limits` on the server (JSON
/// objects, or `null` for none).
fn resolve_limits(limits: &str, server_limits: &str) -> Result<Plan, String> {
    let text = format!(
        r#"{{
          "id": "t", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
          "limits": {limits},
          "programs": [
            {{ "name": "server", "role": "udp-upper-server", "limits": {server_limits} }},
            {{ "name": "client", "role": "udp-upper-client" }}
          ],
          "steps": [ {{ "start": {{ "program": "server" }} }} ]
        }}"#
    );
    resolve_text(text, 30_000)
}

#[test]
fn limits_default_then_scenario_then_program() {
    let plan = resolve_limits("null", "null").unwrap();
    assert_eq!(plan.programs[0].limits, DEFAULT_LIMITS);
    let plan = resolve_limits(
        r#"{ "cpu_seconds": 5, "processes": 8 }"#,
        r#"{ "processes": 2, "output_kib": 4 }"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (server, client) = (plan.programs[0].limits, plan.programs[1].limits);
    assert_eq!(
        server,
        ProgramLimits {
            cpu_seconds: 5,
            processes: 2,
            output_kib: 4,
            ..DEFAULT_LIMITS
        }
    );
    assert_eq!(
        client,
        ProgramLimits {
            cpu_seconds: 5,
            processes: 8,
            ..DEFAULT_LIMITS
        }
    );
}

#[test]
fn a_limit_that_would_switch_itself_off_or_starve_the_program_is_refused() {
    for (limits, server, says) in [
        (
            r#"{ "processes": 0 }"#,
            "null",
            "`processes` is 0: at least 1",
        ),
        (
            "null",
            r#"{ "memory_mib": 8 }"#,
            "`memory_mib` is 8: at least 16",
        ),
        (
            r#"{ "cpu_seconds": 100000 }"#,
            "null",
            "the most socklab allows is 3600",
        ),
        (
            "null",
            r#"{ "open_files": 2 }"#,
            "`open_files` is 2: at least 8",
        ),
    ] {
        let err = resolve_limits(limits, server).unwrap_err();
        assert!(err.contains(says), "{limits} {server}: {err}");
        assert!(err.contains("leave it out for the default"), "{err}");
    }
    let err = resolve_limits(r#"{ "memory": 5 }"#, "null").unwrap_err();
    assert!(err.contains("memory_mib"), "did-you-mean expected: {err}");
}

fn resolve_replicas(programs: &str, steps: &str, checks: &str) -> Result<Plan, String> {
    let text = format!(
        r#"{{ "id": "r", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
          "programs": [ {{ "name": "server", "role": "tcp-upper-server" }}, {programs} ],
          "steps": [ {{ "start": {{ "program": "server" }} }},
                     {{ "wait_ready": {{ "program": "server" }} }}, {steps} ],
          "checks": [ {checks} ] }}"#
    );
    resolve_text(text, 30_900)
}

#[test]
fn replicas_are_programs_named_one_to_n_and_a_step_naming_them_acts_on_each_in_turn() {
    let plan = resolve_replicas(
        r#"{ "name": "client", "role": "tcp-upper-client", "replicas": 3,
             "env": { "WHO": "c{replica}" } }"#,
        r#"{ "start": { "program": "client" } },
           { "write": { "program": "client", "line": "I am {replica}" } },
           { "write": { "program": "client2", "line": "only two" } },
           { "expect_output": { "program": "client", "contains": "I AM {replica}",
                                "title": "each client gets its answer" } }"#,
        r#"{ "running": { "program": "client3" } }"#,
    )
    .unwrap();
    let names: Vec<&str> = plan.programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["server", "client1", "client2", "client3"]);
    assert_eq!(
        plan.programs[2].env,
        [("WHO".to_string(), "c2".to_string())]
    );
    // The run of steps naming `client` is done replica by replica; a step naming one
    // replica breaks the run.
    let labels: Vec<&str> = plan.steps[2..].iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "start client1 (tcp-upper-client)",
            "type \"I am 1\" into client1",
            "start client2 (tcp-upper-client)",
            "type \"I am 2\" into client2",
            "start client3 (tcp-upper-client)",
            "type \"I am 3\" into client3",
            "type \"only two\" into client2",
            "each client gets its answer (client1)",
            "each client gets its answer (client2)",
            "each client gets its answer (client3)",
        ]
    );
    match &plan.steps[11].step {
        StepPlan::ExpectOutput {
            program, matcher, ..
        } => {
            assert_eq!(*program, 3);
            assert_eq!(*matcher, Matcher::Contains("I AM 3".into()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_check_taking_one_program_is_told_to_name_one_replica() {
    let err = resolve_replicas(
        r#"{ "name": "client", "role": "tcp-upper-client", "replicas": 25 }"#,
        r#"{ "start": { "program": "client" } }"#,
        r#"{ "running": { "program": "client" } }"#,
    )
    .unwrap_err();
    assert!(
        err.contains(
            "`client` names 25 replicas (client1 .. client25), and this takes one program"
        ) && err.contains("checks[0].running.program")
            && err.contains("name one replica, e.g. `client1`"),
        "{err}"
    );
}

#[test]
fn replicas_out_of_range_or_clashing_names_are_located_once() {
    let err = resolve_replicas(
        r#"{ "name": "client", "role": "tcp-upper-client", "replicas": 1 }"#,
        r#"{ "start": { "program": "client" } }"#,
        "",
    )
    .unwrap_err();
    assert!(
        err.contains("programs[1].replicas") && err.contains("1 replicas"),
        "{err}"
    );
    let err = resolve_replicas(
        r#"{ "name": "client", "role": "tcp-upper-client", "replicas": 2 },
           { "name": "client2", "role": "tcp-upper-client" }"#,
        r#"{ "start": { "program": "client" } }"#,
        "",
    )
    .unwrap_err();
    assert!(
        err.contains("programs[2].name") && err.contains("duplicate program name `client2`"),
        "{err}"
    );
    let err = resolve_replicas(
        r#"{ "name": "client", "role": "tcp-upper-clinet", "replicas": 5 }"#,
        r#"{ "start": { "program": "clients" } }"#,
        "",
    )
    .unwrap_err();
    assert_eq!(
        err.matches("unknown role `tcp-upper-clinet`").count(),
        1,
        "{err}"
    );
    assert!(err.contains("did you mean `client`"), "{err}");
}

#[test]
fn a_broadcast_takes_a_group_and_refuses_a_message_inside_another() {
    let scenario = |lines: [&str; 2]| {
        format!(
            r#"{{ "id": "b", "lab": "chat", "title": "t", "question": "q", "explanation": "e",
              "programs": [ {{ "name": "server", "role": "chat-server" }},
                            {{ "name": "client", "role": "chat-client", "replicas": 3 }} ],
              "steps": [ {{ "start": {{ "program": "server" }} }},
                         {{ "wait_ready": {{ "program": "server" }} }},
                         {{ "start": {{ "program": "client" }} }},
                         {{ "write": {{ "program": "client", "line": "user{{replica}}" }} }},
                         {{ "write": {{ "program": "client", "line": "{}" }} }},
                         {{ "write": {{ "program": "client", "line": "{}" }} }} ],
              "checks": [ {{ "broadcast": {{ "programs": ["client"], "messages": "^\\[" }} }} ] }}"#,
            lines[0], lines[1]
        )
    };
    let plan = resolve_text(scenario(["[c{replica} #1]", "[c{replica} #2]"]), 31_000).unwrap();
    let title = &plan.checks[0].title;
    assert_eq!(
        title,
        "each of the 6 messages shows exactly once on every other client"
    );
    let err = resolve_text(
        scenario(["[c{replica} #1]", "[c{replica} #1] again"]),
        31_000,
    )
    .unwrap_err();
    assert!(
        err.contains("checks[0].broadcast.messages")
            && err.contains("the message \"[c1 #1]\" is part of the message \"[c1 #1] again\""),
        "{err}"
    );
}

/// An upper scenario on `hosts` (JSON), its server on the first host and its client on the
/// last.
fn two_computers(hosts: &str) -> String {
    format!(
        r#"{{ "id": "h", "lab": "upper", "title": "t", "question": "q", "explanation": "e",
          "hosts": {hosts},
          "programs": [ {{ "name": "server", "role": "tcp-upper-server", "host": "server" }},
                        {{ "name": "client", "role": "tcp-upper-client", "host": "client",
                           "args": ["{{addr:server}}", "{{port}}"] }} ],
          "steps": [ {{ "start": {{ "program": "server" }} }},
                     {{ "wait_ready": {{ "program": "server" }} }},
                     {{ "start": {{ "program": "client" }} }} ] }}"#
    )
}

#[test]
fn hosts_get_documentation_addresses_and_distinct_macs_in_order() {
    let plan = resolve_text(
        two_computers(r#"[ { "name": "server" }, { "name": "client" } ]"#),
        31_000,
    )
    .unwrap();
    assert!(plan.networked());
    let hosts: Vec<(&str, &str, &str)> = plan
        .hosts
        .iter()
        .map(|h| (h.name.as_str(), h.addr.as_str(), h.mac.as_str()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("server", "192.0.2.1", "02:53:4c:00:00:01"),
            ("client", "192.0.2.2", "02:53:4c:00:00:02")
        ]
    );
    let server = plan.programs.iter().find(|p| p.name == "server").unwrap();
    let client = plan.programs.iter().find(|p| p.name == "client").unwrap();
    assert_eq!((server.host, client.host), (0, 1));
    // `{server_addr}` (the server's default HOST) and `{addr:server}` are the server's address.
    assert_eq!(server.argv[server.argv.len() - 2], "192.0.2.1");
    assert_eq!(client.argv[client.argv.len() - 2], "192.0.2.1");
    // Its readiness asks for a socket the other computer can reach.
    let ready = plan
        .steps
        .iter()
        .find_map(|s| match &s.step {
            StepPlan::WaitReady { reachable_at, .. } => Some(reachable_at.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(ready.as_deref(), Some("192.0.2.1"));
}

#[test]
fn one_host_stays_on_loopback_and_any_address_is_ready() {
    let plan = resolve_text(two_computers(r#"[ { "name": "server" } ]"#), 31_000);
    // The client's host is unknown with one host.
    assert!(plan.unwrap_err().contains("unknown host `client`"));
    let scenario = two_computers(r#"[ { "name": "local" } ]"#)
        .replace(r#", "host": "server""#, "")
        .replace(r#", "host": "client""#, "")
        .replace("{addr:server}", "{addr:local}");
    let plan = resolve_text(scenario, 31_000).unwrap();
    assert!(!plan.networked());
    assert_eq!(plan.hosts[0].addr, "127.0.0.1");
    assert!(plan.steps.iter().all(|s| !matches!(
        &s.step,
        StepPlan::WaitReady {
            reachable_at: Some(_),
            ..
        }
    )));
}

#[test]
fn a_host_address_outside_the_documentation_ranges_is_an_error_at_its_path() {
    let err = resolve_text(
        two_computers(r#"[ { "name": "server", "addr": "10.0.0.1" }, { "name": "client" } ]"#),
        31_000,
    )
    .unwrap_err();
    assert!(err.contains("hosts[0].addr"), "{err}");
    assert!(err.contains("outside the documentation ranges"), "{err}");
    assert!(
        err.contains("192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24"),
        "{err}"
    );
    for (addr, why) in [
        ("192.0.2.255", "broadcast"),
        ("203.0.113.0", "network"),
        ("192.0.2", "not an IPv4 address"),
    ] {
        let hosts =
            format!(r#"[ {{ "name": "server" }}, {{ "name": "client", "addr": "{addr}" }} ]"#);
        let err = resolve_text(two_computers(&hosts), 31_000).unwrap_err();
        assert!(
            err.contains("hosts[1].addr") && err.contains(why),
            "{addr}: {err}"
        );
    }
    let plan = resolve_text(
        two_computers(
            r#"[ { "name": "server", "addr": "198.51.100.7" }, { "name": "client", "addr": "203.0.113.9" } ]"#,
        ),
        31_000,
    )
    .unwrap();
    assert_eq!(plan.hosts[0].addr, "198.51.100.7");
    assert_eq!(plan.hosts[1].addr, "203.0.113.9");
}

#[test]
fn hosts_must_have_distinct_names_and_addresses() {
    let err = resolve_text(
        two_computers(r#"[ { "name": "server", "addr": "192.0.2.2" }, { "name": "client" } ]"#),
        31_000,
    )
    .unwrap_err();
    assert!(
        err.contains("host `server` has the address 192.0.2.2 already"),
        "{err}"
    );
    let err = resolve_text(
        two_computers(r#"[ { "name": "server" }, { "name": "server" }, { "name": "client" } ]"#),
        31_000,
    )
    .unwrap_err();
    assert!(err.contains("duplicate host name `server`"), "{err}");
    let err = resolve_text(
        two_computers(r#"[ { "name": "server" }, { "name": "a/b" }, { "name": "client" } ]"#),
        31_000,
    )
    .unwrap_err();
    assert!(err.contains("hosts[1].name"), "{err}");
    let err = resolve_text(
        two_computers(r#"[ { "name": "server", "addr": "192.0.2.9" } ]"#),
        31_000,
    )
    .unwrap_err();
    assert!(err.contains("`addr` needs two hosts or more"), "{err}");
}
