// Package scaling is the decision math of elasticpool (DESIGN.md §5 and §6):
// strategy validation, the daily streak evaluation of one cluster+pool, how
// many devices to add or remove, and the order in which candidates are taken.
//
// It does no I/O and never reads the clock: the caller passes the evaluation
// time, the time zone, the snapshots and the candidates, so every rule is
// table-tested at exact instants. See docs/decisions-scaling.md for the
// choices made where the design was silent.
package scaling
