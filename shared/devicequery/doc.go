// Package devicequery is the device query engine of DESIGN.md §6: the template
// JSON, its validation, a compiler to one parameterized SQL predicate over the
// devices table, and a reference evaluator with the same semantics in Go.
//
// The package does no I/O. The compiled predicate refers to the devices table
// under the alias d (FROM devices d WHERE <predicate>); values and keys travel
// only as parameters ($n placeholders), never in the SQL text.
//
// Typical use:
//
//	t, err := devicequery.Parse(body)           // strict JSON decoding
//	if errs := devicequery.Validate(t); len(errs) > 0 { ... } // stored templates
//	extra := devicequery.AllOf(devicequery.Block{Type: devicequery.TypeDevice, Key: "status", Op: devicequery.OpEq, Value: "idle"})
//	where, args, err := devicequery.CompileAll(1, t, extra)
//	rows, err := pool.Query(ctx, "SELECT id FROM devices d WHERE "+where+" LIMIT 100", args...)
//
// docs/devicequery.md describes the semantics of every type and op.
package devicequery
