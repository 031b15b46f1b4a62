S: +OK pop3d ready
C: FOO
S: -ERR unknown command
C: BAR
S: -ERR unknown command
@login me
S: +OK maildrop has 3 messages (454 octets)
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: FOO
S: -ERR unknown command
C: NOOP
S: +OK
C: QUIT
S: +OK bye, 0 messages deleted
