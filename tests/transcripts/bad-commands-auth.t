rc: 1

S: +OK pop3d ready
C: FOO
S: -ERR unknown command
C: NOOP
S: -ERR command not valid in this state
C: USER me\x00
S: -ERR too many bad commands, closing
C: QUIT
