// Command vendored uses a dependency that is replaced by a local directory and vendored.
package main

import (
	"fmt"

	"example.com/greet"
)

func main() {
	fmt.Println(greet.Hello("vendored"))
}
