S: +OK pop3d ready
@login me
S: +OK maildrop has 3 messages (454 octets)
C: DELE 2
S: +OK message deleted
C: SLEE
S: +OK sleeping, 1 messages deleted
during:
    # A folder where the lock file was: WAKE cannot lock the mailbox.
    rm me/.pop3d.lock
    mkdir me/.pop3d.lock
C: WAKE
S: -ERR [SYS/TEMP] cannot open mailbox, try again later
C: STAT
S: -ERR command not valid in this state
C: QUIT
S: +OK bye

after:
    me/
    me/1.eml
    me/3.eml
