// Command plain is the smallest Go program: the baseline of the binary corpus.
package main

import "fmt"

var version = "dev"

func main() {
	fmt.Println("plain", version)
}
