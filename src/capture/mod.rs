//! AF_PACKET capture inside the sandbox, written as pcap. To be written.
