S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: LIST a
S: -ERR invalid message number
C: LIST 1a
S: -ERR invalid message number
C: LIST -1
S: -ERR invalid message number
C: LIST +1
S: -ERR invalid message number
C: LIST\x20
S: -ERR invalid message number
C: LIST  1
S: -ERR invalid message number
C: LIST 1\x20
S: -ERR invalid message number
C: LIST 1 2
S: -ERR invalid message number
C: LIST 0000000001
S: +OK 1 168
C: LIST 00000000001
S: -ERR invalid message number
C: LIST 9999999999
S: -ERR no such message
C: LIST 4294967297
S: -ERR no such message
C: LIST 99999999999999999999
S: -ERR invalid message number
C: LIST 18446744073709551617
S: -ERR invalid message number
C: QUIT
S: +OK bye, 0 messages deleted
