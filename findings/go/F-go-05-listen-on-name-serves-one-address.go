// F-go-05: net.Listen("tcp", "name:0") on a name with two addresses listens on
// one of them only; clients of the other address are refused. (Go documents it:
// "Listen listens on only one of the host's IP addresses".)
// Rule (netutil SPEC BIND-013, BIND-016): every address of the name gets a
// listener, all on the one port the first bind chose.
// Needs a name with two addresses: as root, the program re-runs itself in a
// private mount namespace whose /etc/hosts says "127.0.0.1 two.test" and
// "127.0.0.2 two.test" (unshare(1) and mount(8); the real /etc/hosts is untouched).
// Run: go run F-go-05-listen-on-name-serves-one-address.go   (exit 0: reproduced)
package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
)

func main() {
	if os.Getenv("F_GO_05_INSIDE") == "" {
		hosts, err := os.CreateTemp("", "f-go-05-hosts")
		if err != nil {
			panic(err)
		}
		defer os.Remove(hosts.Name())
		fmt.Fprintln(hosts, "127.0.0.1 two.test\n127.0.0.2 two.test")
		hosts.Close()
		self, _ := os.Executable()
		cmd := exec.Command("unshare", "--mount", "sh", "-c",
			`mount --bind "$1" /etc/hosts && exec "$2"`, "sh", hosts.Name(), self)
		cmd.Env = append(os.Environ(), "F_GO_05_INSIDE=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Println("cannot make the name (needs root, unshare, mount):", err)
			os.Exit(2)
		}
		return
	}
	addrs, err := net.LookupHost("two.test")
	if err != nil {
		panic(err)
	}
	fmt.Println("two.test resolves to", addrs)
	l, err := net.Listen("tcp", "two.test:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	missing := 0
	for _, a := range addrs {
		c, err := net.Dial("tcp", net.JoinHostPort(a, fmt.Sprint(port)))
		if err != nil {
			fmt.Printf("connect %s:<port>: refused\n", a)
			missing++
			continue
		}
		c.Close()
		fmt.Printf("connect %s:<port>: accepted\n", a)
	}
	fmt.Println("expected: both addresses accept on the one port")
	if missing == 0 {
		os.Exit(1)
	}
}
