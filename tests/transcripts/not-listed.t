setup:
    mkfifo junk/fifo
    ln -s real.eml junk/link.eml
    ln -s ../me/1.eml junk/escape.eml
    ln -s /nonexistent junk/dangling
    ln -s sub junk/dirlink

S: +OK pop3d ready
@login junk
S: +OK maildrop has 1 messages (35 octets)
C: LIST
S: +OK 1 messages (35 octets)
S: 1 35
S: .
C: UIDL
S: +OK unique-id listing follows
S: 1 real.eml
S: .
C: LIST 2
S: -ERR no such message
C: RETR 1
S: +OK 35 octets
S: Subject: the only message
S:
S: real
S: .
C: DELE 1
S: +OK message deleted
C: QUIT
S: +OK bye, 1 messages deleted

after:
    junk/
    junk/.hidden
    junk/dangling@
    junk/dirlink@
    junk/escape.eml@
    junk/fifo|
    junk/link.eml@
    junk/sub/
    junk/sub/inner.eml
