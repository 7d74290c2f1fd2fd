package scaling

import (
	"fmt"
	"time"
)

// Date is a calendar day with no time zone, like the snapshots' `day` column.
// Day arithmetic goes through the calendar, never through 24-hour durations,
// so DST days of 23 or 25 hours cannot shift a window.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the calendar day of t in t's own location. For the evaluation
// day use DateOf(t.In(loc)); for a pgx `date` (midnight UTC) use DateOf(d).
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// AddDays moves n calendar days (negative goes back).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Before reports whether d is an earlier day than o.
func (d Date) Before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String is YYYY-MM-DD.
func (d Date) String() string {
	var buf [16]byte
	return string(d.appendTo(buf[:0]))
}

// appendTo appends YYYY-MM-DD, as fmt's "%04d-%02d-%02d" would, without
// fmt's allocations: reasons, keys and history JSON print dates for every
// pool of a strategy.
func (d Date) appendTo(b []byte) []byte {
	y, m, dd := d.Year, int(d.Month), d.Day
	if y < 0 || y > 9999 || m < 0 || m > 99 || dd < 0 || dd > 99 {
		return fmt.Appendf(b, "%04d-%02d-%02d", y, m, dd)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}

// MarshalText makes a Date a JSON string "YYYY-MM-DD".
func (d Date) MarshalText() ([]byte, error) { return d.appendTo(make([]byte, 0, 10)), nil }

// dayNumber counts days from 1970-01-01 in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil), so two calendar days compare and subtract
// as integers. Only meaningful for a valid calendar day.
func (d Date) dayNumber() int {
	y, m := d.Year, int(d.Month)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d.Day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// next is d.AddDays(1) for a valid calendar day, without building a time.Time.
func (d Date) next() Date {
	if d.Day < daysIn(d.Month, d.Year) {
		d.Day++
		return d
	}
	d.Day = 1
	if d.Month < time.December {
		d.Month++
		return d
	}
	d.Month = time.January
	d.Year++
	return d
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// UnmarshalText parses "YYYY-MM-DD".
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
