# A Maildir whose new/ is a symbolic link (to a folder elsewhere, here
# one holding a file that is no mail of this user's) is refused, as a
# mailbox that is a symbolic link is: served as a plain folder instead,
# it would offer dovecot-uidlist and maildirfolder as messages, and
# remove them on DELE, while the mail in cur/ went unseen.
setup:
    mkdir ../elsewhere
    echo 'not mail of this user' > ../elsewhere/x
    rm -r maildir/new
    ln -s ../../elsewhere maildir/new

S: +OK pop3d ready
@login maildir
S: -ERR [SYS/PERM] mailbox unusable, tell the admin
C: LIST
S: -ERR command not valid in this state
C: QUIT
S: +OK bye

after:
    maildir/
    maildir/cur/
    maildir/cur/1700000001.M1P1.host:2,S
    maildir/cur/1700000003.M3P3.host:2,RS
    maildir/cur/1700000005.M5P5.host:2,S
    maildir/dovecot-uidlist
    maildir/maildirfolder
    maildir/new@
    maildir/tmp/
    maildir/tmp/1700000004.M4P4.host
