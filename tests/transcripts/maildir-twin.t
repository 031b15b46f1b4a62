S: +OK pop3d ready
@login maildir
S: +OK maildrop has 5 messages (141 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1700000001.M1P1.host
S: 2 1700000002.M2P2.host
S: 3 1700000003.M3P3.host
S: 4 =6534e774644eceb541dd2b753bf94d26
S: 5 1700000005.M5P5.host
S: .
C: SLEE
S: +OK sleeping, 0 messages deleted
during:
    # Asleep: another client takes the new/ copy of the base name that
    # cur/ holds too.  The cur/ copy keeps its id, and the id the new/ copy
    # had is given to no other message.
    rm maildir/new/1700000005.M5P5.host
C: WAKE
S: +OK [ACTIVITY/NONE] maildrop has 4 messages (110 octets)
C: UIDL
S: +OK unique-id listing follows
S: 1 1700000001.M1P1.host
S: 2 1700000002.M2P2.host
S: 3 1700000003.M3P3.host
S: 4 1700000005.M5P5.host
S: .
C: UIDL UID:1700000005.M5P5.host
S: +OK 4 1700000005.M5P5.host
C: QUIT
S: +OK bye, 0 messages deleted

after:
    maildir/
    maildir/.pop3d.uidls
    maildir/cur/
    maildir/cur/1700000001.M1P1.host:2,S
    maildir/cur/1700000003.M3P3.host:2,RS
    maildir/cur/1700000005.M5P5.host:2,S
    maildir/dovecot-uidlist
    maildir/maildirfolder
    maildir/new/
    maildir/new/1700000002.M2P2.host
    maildir/tmp/
    maildir/tmp/1700000004.M4P4.host
