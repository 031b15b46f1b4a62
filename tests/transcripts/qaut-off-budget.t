rc: 1

S: +OK pop3d ready
C: FOO
S: -ERR unknown command
C: QAUT
S: -ERR unknown command
C: qaut
S: -ERR too many bad commands, closing
C: QUIT
