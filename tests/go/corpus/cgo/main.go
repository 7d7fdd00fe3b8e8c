// Command cgo calls into C and resolves a host name through the C library, so it is
// linked dynamically (PT_INTERP, DT_NEEDED libc.so.6).
package main

/*
#include <stdlib.h>
static int twice(int x) { return 2 * abs(x); }
*/
import "C"

import (
	"fmt"
	"net"
)

func main() {
	_, err := net.LookupHost("localhost")
	fmt.Println("cgo", C.twice(-21), err == nil)
}
