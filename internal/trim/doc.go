// Package trim gives back to the kernel the memory of library tables that
// porttop never reads.
//
// gopacket/layers, which every gopacket capture package imports, fills
// two 65,536-entry decoder tables at init: EthernetTypeMetadata and
// PPPTypeMetadata, 2.5 MiB each, every page written and so resident for
// the life of the process. They are consulted only when gopacket decodes
// packets into layers, and porttop never does: it reads headers with its
// own decoder (internal/decode). A resident set that was 17% these tables
// is what GopacketTables is for.
package trim
