package agent

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
)

// Host is the System of the machine the agent runs on.
type Host struct{}

func (Host) OS() string                            { return runtime.GOOS }
func (Host) Hostname() (string, error)             { return os.Hostname() }
func (Host) ReadFile(path string) ([]byte, error)  { return os.ReadFile(path) }
func (Host) Stat(path string) (fs.FileInfo, error) { return os.Stat(path) }

// Run runs a command, with no shell, and returns its exit code.
func (Host) Run(name string, args ...string) (int, error) {
	err := exec.Command(name, args...).Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}
