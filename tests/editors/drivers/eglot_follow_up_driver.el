;;; eglot_follow_up_driver.el --- batch Emacs + eglot through a conversation: gdm-ask, gdm-follow-up  -*- lexical-binding: t; -*-
;; M-x gdm-ask, then M-x gdm-follow-up (continues the last task), then the follow-up task's changes
;; accepted with gdm.task.accept; records the tasks, the pending patches and the buffer.

(load (expand-file-name "emacs_common.el" (file-name-directory load-file-name)))
(t/use-gdm)
(require 'gdm-eglot)
(setq eglot-confirm-server-initiated-edits nil)

(defun t/over-count ()
  (cl-count-if (lambda (s) (not (equal s "running"))) (hash-table-values gdm--tasks)))

(defun t/pending ()
  (mapcar (lambda (p) `((patchId . ,(plist-get p :patchId)) (taskId . ,(plist-get p :taskId))
                        (hunks . ,(length (plist-get p :hunks)))))
          (gdm-pending)))

(defun t/main ()
  (find-file (expand-file-name "calc.py" (getenv "GDM_TEST_WORKSPACE")))
  (apply #'eglot (eglot--guess-contact))
  (t/wait "eglot connected" (lambda () (eglot-current-server)))
  (t/wait "session open (first gdm/costUpdate)" (lambda () gdm--cost))
  (t/goto "Return a \\+ b")
  (gdm-ask "EDTEST conversation first")
  (t/wait "first task over" (lambda () (>= (t/over-count) 1)))
  (let ((first gdm--last-task))
    (t/put 'first_task first)
    (t/wait "patch of the first task" (lambda () (= (length (gdm-pending)) 1)))
    (t/put 'pending_after_first (t/pending))
    (t/goto "Return a / b")
    (gdm-follow-up "EDTEST conversation more")
    (t/wait "follow-up asked" (lambda () (not (equal gdm--last-task first)))))
  (let ((follow gdm--last-task))
    (t/put 'follow_task follow)
    (t/wait "follow-up over" (lambda () (>= (t/over-count) 2)))
    (t/put 'task_statuses (hash-table-values gdm--tasks))
    (t/wait "the patch extended by the follow-up"
            (lambda () (let ((p (gdm-pending))) (and (= (length p) 1) (equal (plist-get (car p) :taskId) follow)))))
    (t/put 'pending_after_follow_up (t/pending))
    ;; Accept all the follow-up task's changes; eglot applies the workspace/applyEdit.
    (eglot-execute-command (eglot-current-server) "gdm.task.accept" (vector (list :taskId follow)))
    (t/wait "accepted" (lambda () (null (gdm-pending)))))
  (t/put 'after_accept (t/text)))

(t/run #'t/main)
