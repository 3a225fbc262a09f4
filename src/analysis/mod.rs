//! Analysis of decoded packets: TCP streams, UDP flows, ICMP errors (pure). To be written.
