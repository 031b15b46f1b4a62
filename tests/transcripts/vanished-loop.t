rc: 1

S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: LIST
S: +OK 3 messages (454 octets)
S: 1 168
S: 2 215
S: 3 71
S: .
during:
    rm me/2.eml
C: DELE 1
S: +OK message deleted
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR message is no longer available
C: RETR 2
S: -ERR too many bad commands, closing
C: QUIT

after:
    me/
    me/1.eml
    me/3.eml
